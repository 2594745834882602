"""The REST API (spec section 12) under /api/v1."""
