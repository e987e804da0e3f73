"""Accounts: users, roles and grants, sign-in, sessions, API tokens."""
