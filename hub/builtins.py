"""Built-in plugins: registered in every process, always on, overridable by installed plugins."""

from __future__ import annotations


def plugins() -> list[tuple[str, object]]:
    """(name, plugin module) of each built-in."""
    from hub import builtin_escalation

    return [("admin-escalation", builtin_escalation)]
