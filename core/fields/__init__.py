"""Custom fields: per-tenant typed ticket fields, their definitions and their validated values."""
