"""The Jira plugin."""
