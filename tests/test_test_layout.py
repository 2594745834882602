"""The tests' own layout: helpers live in conftest or helper modules, and tests/ mirrors the tree."""

from __future__ import annotations

from pathlib import Path

from tests.source_imports import imported_modules

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"


def test_no_test_module_imports_another_test_module() -> None:
    """A test module that others import runs its tests twice and hides its helpers."""
    bad = [
        (str(path.relative_to(ROOT)), module)
        for path in TESTS.rglob("*.py")
        for module in imported_modules(path)
        if module.startswith("tests.") and module.rsplit(".", 1)[-1].startswith("test_")
    ]
    assert bad == []


def test_the_check_sees_such_an_import(tmp_path: Path) -> None:
    sample = tmp_path / "test_sample.py"
    sample.write_text("from tests.plugins.email.test_smtp import send\n")
    assert imported_modules(sample) == ["tests.plugins.email.test_smtp"]


def _test_dirs() -> list[Path]:
    """Folders of tests/ that hold test modules (fixtures and vendored files excluded)."""
    return sorted(
        {p.parent for p in TESTS.rglob("test_*.py") if p.parent != TESTS},
        key=lambda p: p.as_posix(),
    )


def test_tests_mirror_the_tree() -> None:
    """tests/core, tests/hub/web, tests/plugins/email ...: each is a folder of the code."""
    strays = [
        str(folder.relative_to(ROOT))
        for folder in _test_dirs()
        if not (ROOT / folder.relative_to(TESTS)).is_dir()
    ]
    assert strays == []
    untested = [
        name
        for name in ["core", "hub", *(p.name for p in (ROOT / "plugins").iterdir() if p.is_dir())]
        if name != "__pycache__"
        and not any(
            d.relative_to(TESTS).as_posix() in (name, f"plugins/{name}") for d in _test_dirs()
        )
    ]
    assert untested == []
