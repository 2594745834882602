"""What a malware scan says about a file, and the states an attachment's scan can be in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

CLEAN, INFECTED, NOT_SCANNED = "clean", "infected", "not_scanned"
# Why a file is held (not served by any download): an infected verdict, or no verdict yet
# because the scanner was down and the tenant chose to keep such files until a rescan.
HELD_INFECTED, HELD_UNSCANNED = "infected", "unscanned"
# What a tenant wants when the scanner is down: refuse the file, or keep it held unscanned.
WHEN_DOWN = ("refuse", "hold")


@dataclass(frozen=True)
class ScanVerdict:
    """A scanner's answer: ``clean``, or ``infected`` with the signature (what it found)."""

    status: Literal["clean", "infected"]
    signature: str = ""
    engine: str = ""

    @property
    def infected(self) -> bool:
        return self.status == INFECTED
