"""Person data (GDPR): exports, erasure, legal holds and retention schedules of a tenant."""
