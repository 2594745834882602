"""Analytics: per-ticket report facts kept in the write transaction, and the standard reports."""
