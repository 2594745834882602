"""The layering of DESIGN.md, model/migration parity, and hook specs that are tested and documented."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from core import hookspecs
from tests.source_imports import imported_modules

ROOT = Path(__file__).resolve().parents[1]


def test_core_imports_nothing_of_ours() -> None:
    bad = [
        (str(p.relative_to(ROOT)), m)
        for p in (ROOT / "core").rglob("*.py")
        for m in imported_modules(p)
        if m.split(".")[0] in ("hub", "plugins")
    ]
    assert bad == []


def test_plugins_import_only_core_api() -> None:
    bad = []
    for path in (ROOT / "plugins").rglob("*.py"):
        own = path.relative_to(ROOT / "plugins").parts[0]
        for module in imported_modules(path):
            top = module.split(".")
            if top[0] == "hub":
                bad.append((str(path.relative_to(ROOT)), module))
            elif top[0] == "core" and module != "core.api":
                bad.append((str(path.relative_to(ROOT)), module))
            elif top[0] == "plugins" and len(top) > 1 and top[1] != own:
                bad.append((str(path.relative_to(ROOT)), module))
    assert bad == []


def test_import_linter_contracts_hold() -> None:
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(linter)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


PORT_CONTRACT = "plugins import core.api only: no core.models, no core services"


@pytest.mark.parametrize(
    ("plugin_imports", "holds"),
    [
        ("from core.api import seen", True),
        ("from core.models import Ticket", False),
        ("from core.services.refs import find_ref", False),
        ("from core import db", False),
    ],
)
def test_port_contract_fails_when_broken(tmp_path: Path, plugin_imports: str, holds: bool) -> None:
    """The contract of pyproject.toml, run on a small tree whose one plugin module imports
    ``plugin_imports``: only ``core.api`` passes (what ``core.api`` imports in turn does not
    count)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = [c for c in config["contracts"] if c["name"] == PORT_CONTRACT]
    files = {
        "core/__init__.py": "",
        "core/db.py": "",
        "core/models.py": "from core import db\nTicket = object\n",
        "core/services/__init__.py": "",
        "core/services/refs.py": "from core.models import Ticket\nfind_ref = Ticket\n",
        "core/api.py": "from core.services.refs import find_ref\nseen = find_ref\n",
        "plugins/__init__.py": "",
        "plugins/demo/__init__.py": "",
        "plugins/demo/routes.py": "from core.api import seen\n",
        "plugins/demo/plugin.py": plugin_imports + "\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    lines = [
        "[importlinter]",
        "root_packages =\n    core\n    plugins",
        "[importlinter:contract:port]",
        f"name = {contract['name']}",
        f"type = {contract['type']}",
        "source_modules = plugins",
        "forbidden_modules =\n    " + "\n    ".join(contract["forbidden_modules"]),
        "ignore_imports =\n    " + "\n    ".join(contract["ignore_imports"]),
        f"allow_indirect_imports = {contract['allow_indirect_imports']}",
    ]
    (tmp_path / ".importlinter").write_text("\n".join(lines) + "\n")
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(linter), "--no-cache"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(tmp_path), "PATH": ""},
    )
    assert (result.returncode == 0) is holds, result.stdout + result.stderr
    if not holds:
        assert "plugins is not allowed to import core." in result.stdout


def test_migrations_match_models(db_url: str, hub) -> None:  # type: ignore[no-untyped-def]
    """Every table and column a model declares exists after ``alembic upgrade heads``."""
    from core.db import Base

    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    missing = [d for d in diffs if d[0] in ("add_table", "add_column")]
    assert missing == [], missing


def _specs() -> list[str]:
    return [
        name
        for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
        if name.startswith("hub_")
    ]


def _test_functions() -> set[str]:
    return {
        node.name
        for path in (ROOT / "tests").rglob("test_*.py")
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path)))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }


def test_every_hookspec_has_its_own_test() -> None:
    """Each spec has a ``test_hook_<name>`` that calls it through the hub (a name mentioned in
    passing is not a test of the hook's call mode and return contract)."""
    tests = _test_functions()
    untested = [name for name in _specs() if f"test_hook_{name}" not in tests]
    assert untested == []


def test_hook_reference_is_generated_from_the_specs(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """docs/plugins.md carries what ``hub docs hooks`` writes; a changed docstring makes it stale."""
    from hub import docs_hooks

    doc = (ROOT / "docs" / "plugins.md").read_text()
    assert docs_hooks.updated(doc) == doc, "run `hub docs hooks`"
    assert all("Example::" in (fn.__doc__ or "") for _, fn in docs_hooks.specs())
    monkeypatch.setattr(hookspecs.hub_notify, "__doc__", "Changed.\n\nExample::\n\n    pass\n")
    assert docs_hooks.updated(doc) != doc


def test_every_hookspec_and_argument_is_documented() -> None:
    docs = (ROOT / "docs" / "plugins.md").read_text()
    missing = []
    for name in _specs():
        header = f"### `{name}`"
        if header not in docs:
            missing.append(name)
            continue
        section = docs.split(header, 1)[1].split("\n### ", 1)[0]
        for arg in inspect.signature(getattr(hookspecs, name)).parameters:
            if f"`{arg}`" not in section:
                missing.append(f"{name}.{arg}")
    assert missing == []
