"""City registry and membership lifecycle: signatories, applications and decisions, teams, public pages."""
