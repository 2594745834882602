"""Agent groups and tiers: who works which tickets, and where an escalation to the next tier
goes. A group has members (agents and admins of the tenant) and an optional tier number; the
ticket's ``group_id`` names the group that owns it."""
