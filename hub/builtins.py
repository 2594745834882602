"""Built-in plugins: registered in every process, always on, overridable by installed plugins."""

from __future__ import annotations


def plugins() -> list[tuple[str, object]]:
    """(name, plugin module) of each built-in."""
    from core.kb import search as kb_search
    from hub import builtin_escalation

    return [("admin-escalation", builtin_escalation), (kb_search.NAME, kb_search), *_automation()]


def _automation() -> list[tuple[str, object]]:
    from hub import builtin_audit, builtin_automation, builtin_housekeeping, builtin_reports

    return [
        (builtin_automation.NAME, builtin_automation),
        (builtin_reports.NAME, builtin_reports),
        (builtin_housekeeping.NAME, builtin_housekeeping),
        (builtin_audit.NAME, builtin_audit),
    ]
