"""SLAs: policies and their business calendars, each ticket's clock, and the sweep that logs
warnings and breaches."""
