"""Likely duplicates: a new ticket is compared with the open tickets of the same requester from
the last days, and a similar pair is flagged on both tickets for an agent to merge or dismiss."""
