"""The ticket engine: models, lifecycle, services and hook specs. Imports nothing of ours."""
