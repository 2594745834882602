"""Tags: per-tenant labels on tickets (normalised names), their admin and their filters."""
