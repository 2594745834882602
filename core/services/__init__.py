"""Use cases over a SQLAlchemy session. The caller owns the transaction."""
