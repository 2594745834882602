"""The Slack plugin."""
