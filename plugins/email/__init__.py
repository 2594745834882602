"""The Email plugin."""
