"""Built-in plugins: registered in every process, always on, overridable by installed plugins."""

from __future__ import annotations


def plugins() -> list[tuple[str, object]]:
    """(name, plugin module) of each built-in."""
    from core.kb import search as kb_search
    from hub import builtin_escalation, builtin_notifications

    return [
        ("admin-escalation", builtin_escalation),
        (builtin_notifications.NAME, builtin_notifications),
        (kb_search.NAME, kb_search),
        *_automation(),
    ]


def _automation() -> list[tuple[str, object]]:
    from hub import (
        builtin_audit,
        builtin_automation,
        builtin_duplicates,
        builtin_housekeeping,
        builtin_privacy,
        builtin_reports,
        builtin_scan,
    )

    return [
        (builtin_automation.NAME, builtin_automation),
        (builtin_reports.NAME, builtin_reports),
        (builtin_housekeeping.NAME, builtin_housekeeping),
        (builtin_scan.NAME, builtin_scan),
        (builtin_privacy.NAME, builtin_privacy),
        (builtin_audit.NAME, builtin_audit),
        (builtin_duplicates.NAME, builtin_duplicates),
    ]
