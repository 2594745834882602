"""The PagerDuty plugin."""
