"""Automation: rules stored as data, macros, the built-in switches (auto-assign, auto-close),
escalation requests, and the time-driven sweep."""
