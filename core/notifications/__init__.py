"""Notifications: the matrix (who hears what, through which channel), the resolver, the
preferences, the wording, and the in-app rows."""
