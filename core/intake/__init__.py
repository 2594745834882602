"""Inbound messages from any channel: dedupe, thread, then a ticket or a comment.

``message`` holds the types a channel builds, ``dedupe`` the seen-once keys, ``threading`` the
ordered rules that find the ticket a message continues, ``senders`` and ``trust`` who sent it and
whether they may add to that ticket and act as themselves, ``refs`` the external ids of tickets,
and ``ingest`` the write path for one message or a batch. The reason a message was threaded
where it was is written to the audit.
"""

from core.intake.dedupe import find_duplicate
from core.intake.ingest import ingest, ingest_many
from core.intake.message import InboundAttachment, InboundMessage, IngestResult, read_capped
from core.intake.refs import add_ref
from core.intake.threading import SUBJECT_TOKEN
from core.intake.trust import UnverifiedSender

__all__ = [
    "SUBJECT_TOKEN",
    "InboundAttachment",
    "InboundMessage",
    "IngestResult",
    "UnverifiedSender",
    "add_ref",
    "find_duplicate",
    "ingest",
    "ingest_many",
    "read_capped",
]
