"""The Web chatbot plugin."""
