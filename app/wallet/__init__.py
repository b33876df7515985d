"""The digital card in the service: pass records, Apple device registrations, the push outbox."""
