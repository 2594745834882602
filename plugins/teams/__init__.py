"""The Microsoft Teams plugin."""
