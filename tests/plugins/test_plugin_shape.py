"""Every plugin has one shape (docs/plugins.md): ``plugin.py`` holds hook implementations only,
``routes.py`` exports ``build_router(hub)``, loggers are named by module (``plugins.<name>.<mod>``),
imports are absolute and make no circle, ``settings.py`` and ``README.md`` exist, and a plugin that reads a vendor's
payloads declares the events it handles (``payloads.HANDLED_EVENTS``) with a test that each has a
recorded fixture in tests/fixtures/<name>/. The last test shows the checks catch a broken plugin."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLUGINS = sorted(p for p in (ROOT / "plugins").iterdir() if (p / "plugin.py").is_file())
FIXTURES = ROOT / "tests" / "fixtures"


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def _modules(plugin: Path) -> Iterator[Path]:
    return (p for p in sorted(plugin.rglob("*.py")) if "migrations" not in p.parts)


def _is_hookimpl(node: ast.FunctionDef) -> bool:
    for dec in node.decorator_list:
        target = dec.func if isinstance(dec, ast.Call) else dec
        if isinstance(target, ast.Name) and target.id == "hookimpl":
            return True
    return False


def plugin_module_problems(plugin: Path) -> list[str]:
    """``plugin.py``: imports, hook implementations and UPPER_CASE constants, nothing else."""
    problems = []
    for node in _tree(plugin / "plugin.py").body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the docstring
        if isinstance(node, ast.FunctionDef) and node.name.startswith("hub_"):
            if not _is_hookimpl(node):
                problems.append(f"{node.name} is not marked @hookimpl")
            continue
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [t.id for t in targets if isinstance(t, ast.Name)]
            if names and all(n.isupper() for n in names):
                continue
        problems.append(f"line {node.lineno}: {type(node).__name__} that is not a hook")
    return problems


def router_problems(plugin: Path) -> list[str]:
    """A plugin with HTTP routes exports ``build_router(hub)`` from routes.py and uses it."""
    source = (plugin / "plugin.py").read_text()
    if "def hub_routes" not in source:
        return []
    routes = plugin / "routes.py"
    if not routes.is_file():
        return ["implements hub_routes without a routes.py"]
    found = [
        n for n in _tree(routes).body if isinstance(n, ast.FunctionDef) and n.name == "build_router"
    ]
    if not found or [a.arg for a in found[0].args.args] != ["hub"]:
        return ["routes.py has no build_router(hub)"]
    if "build_router(hub)" not in source:
        return ["hub_routes does not return build_router(hub)"]
    return []


def logger_problems(plugin: Path) -> list[str]:
    """Every logger is ``logging.getLogger(__name__)``: ``plugins.<name>.<module>``."""
    problems = []
    for path in _modules(plugin):
        for node in ast.walk(_tree(path)):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "getLogger"
                and not (
                    len(node.args) == 1
                    and isinstance(node.args[0], ast.Name)
                    and node.args[0].id == "__name__"
                )
            ):
                problems.append(f"{path.name}:{node.lineno}: getLogger not by __name__")
    return problems


def import_problems(plugin: Path) -> list[str]:
    """Imports are absolute (``from plugins.<name>.x import y``), never ``from .x import y``."""
    return [
        f"{path.name}:{node.lineno}: relative import"
        for path in _modules(plugin)
        for node in ast.walk(_tree(path))
        if isinstance(node, ast.ImportFrom) and node.level > 0
    ]


def cycle_problems(plugin: Path) -> list[str]:
    """No modules of a plugin import each other in a circle (deferred imports count too)."""
    own = {p.stem for p in _modules(plugin)}
    graph: dict[str, set[str]] = {}
    for path in _modules(plugin):
        deps = graph.setdefault(path.stem, set())
        for node in ast.walk(_tree(path)):
            if not isinstance(node, ast.ImportFrom):
                continue
            if node.level > 0:
                parts = [""] + (node.module or "").split(".")
            elif (node.module or "").startswith(f"plugins.{plugin.name}"):
                parts = node.module.split(".")[1:]  # type: ignore[union-attr]
            else:
                continue
            deps |= (
                {parts[1]} if len(parts) > 1 and parts[1] else {a.name for a in node.names}
            ) & own

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in graph.get(start, set()) - seen:
            if nxt == goal or reaches(nxt, goal, seen | {nxt}):
                return True
        return False

    return [f"{m} imports itself through a circle" for m in sorted(graph) if reaches(m, m, set())]


def file_problems(plugin: Path) -> list[str]:
    return [f"no {name}" for name in ("settings.py", "README.md") if not (plugin / name).is_file()]


def payload_problems(plugin: Path, tests: Path = ROOT / "tests" / "plugins") -> list[str]:
    """A plugin with recorded vendor payloads declares ``HANDLED_EVENTS`` in payloads.py, and
    its tests check each handled event against the recordings."""
    if not (FIXTURES / plugin.name).is_dir():
        return []
    payloads = plugin / "payloads.py"
    if not payloads.is_file():
        return ["has recorded payloads but no payloads.py"]
    declared = [
        n
        for n in _tree(payloads).body
        if isinstance(n, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "HANDLED_EVENTS" for t in n.targets)
    ]
    if not declared or not isinstance(declared[0].value, ast.Tuple) or not declared[0].value.elts:
        return ["payloads.py declares no HANDLED_EVENTS tuple"]
    checked = any(
        isinstance(n, ast.FunctionDef) and n.name == "test_each_handled_event_has_a_fixture"
        for path in (tests / plugin.name).glob("test_*.py")
        for n in ast.walk(_tree(path))
    )
    return [] if checked else ["no test_each_handled_event_has_a_fixture"]


def _tables(plugin: Path) -> list[str]:
    """The ``__tablename__`` of every model the plugin declares."""
    return [
        node.value.value
        for path in _modules(plugin)
        for node in ast.walk(_tree(path))
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "__tablename__" for t in node.targets)
        and isinstance(node.value, ast.Constant)
    ]


def migration_problems(
    plugin: Path, core_versions: Path = ROOT / "hub/migrations/versions"
) -> list[str]:
    """A plugin's tables are created by its own ``migrations/versions`` (collected through the
    entry points: hub/migrate.py), never by core's."""
    tables = _tables(plugin)
    versions = plugin / "migrations" / "versions"
    own = " ".join(p.read_text() for p in versions.glob("*.py")) if versions.is_dir() else ""
    core = " ".join(p.read_text() for p in core_versions.glob("*.py"))
    problems = []
    for table in tables:
        creates = re.compile(rf"create_table\(\s*['\"]{re.escape(table)}['\"]")
        if not creates.search(own):
            problems.append(f"table {table} has no migration in migrations/versions")
        if creates.search(core):
            problems.append(f"table {table} is created by core's migrations")
    return problems


CHECKS = [
    plugin_module_problems,
    router_problems,
    logger_problems,
    import_problems,
    cycle_problems,
    file_problems,
    payload_problems,
    migration_problems,
]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_every_plugin_has_the_shape(check) -> None:  # type: ignore[no-untyped-def]
    found = {p.name: problems for p in PLUGINS if (problems := check(p))}
    assert found == {}


def test_the_plugins_are_found() -> None:
    assert {"chatbot", "email", "jira", "pagerduty", "slack", "teams"} <= {p.name for p in PLUGINS}


def test_a_misshapen_plugin_is_caught(tmp_path: Path) -> None:
    bad = tmp_path / "plugins" / "jira"  # a name with recorded fixtures
    bad.mkdir(parents=True)
    (bad / "plugin.py").write_text(
        "import logging\n"
        "from .helpers import x\n"
        "log = logging.getLogger('hub.jira')\n"
        "class Helper: ...\n"
        "def hub_routes(hub):\n    from plugins.jira.routes import router\n    return router(hub)\n"
    )
    (bad / "routes.py").write_text("def router(hub): ...\n")
    (bad / "payloads.py").write_text("EVENTS = ()\n")
    assert plugin_module_problems(bad) == [
        "line 3: Assign that is not a hook",
        "line 4: ClassDef that is not a hook",
        "hub_routes is not marked @hookimpl",
    ]
    assert router_problems(bad) == ["routes.py has no build_router(hub)"]
    assert logger_problems(bad) == ["plugin.py:3: getLogger not by __name__"]
    assert import_problems(bad) == ["plugin.py:2: relative import"]
    (bad / "a.py").write_text("def f():\n    from plugins.jira.b import g\n")
    (bad / "b.py").write_text("from plugins.jira import a\n")
    assert cycle_problems(bad) == [
        "a imports itself through a circle",
        "b imports itself through a circle",
    ]
    assert file_problems(bad) == ["no settings.py", "no README.md"]
    assert payload_problems(bad, tests=tmp_path) == ["payloads.py declares no HANDLED_EVENTS tuple"]
    (bad / "models.py").write_text("class Widget:\n    __tablename__ = 'jira_widgets'\n")
    core_versions = tmp_path / "core_versions"
    core_versions.mkdir()
    (core_versions / "0001.py").write_text("op.create_table('jira_widgets')\n")
    assert migration_problems(bad, core_versions) == [
        "table jira_widgets has no migration in migrations/versions",
        "table jira_widgets is created by core's migrations",
    ]
