"""The event bus: domain events, the transactional outbox, the relay, consumers, inbox and dead letters."""
