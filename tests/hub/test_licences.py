"""The licence check of ``make lint``: a GPL or AGPL runtime dependency fails it, directly or
through another package; LGPL and a choice with a permissive alternative pass."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hub import licences

ROOT = Path(__file__).resolve().parents[2]


def _dist(where: Path, name: str, *, licence: str, requires: tuple[str, ...] = ()) -> None:
    info = where / f"{name}-1.0.dist-info"
    info.mkdir()
    lines = ["Metadata-Version: 2.4", f"Name: {name}", "Version: 1.0"]
    lines.append(f"License-Expression: {licence}")
    lines += [f"Requires-Dist: {r}" for r in requires]
    (info / "METADATA").write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize(
    ("licence", "refused"),
    [
        ("GPL-3.0-or-later", True),
        ("AGPL-3.0-only", True),
        ("GNU General Public License v2 (GPLv2)", True),
        ("LGPL-3.0-only", False),
        ("GNU Lesser General Public License v3 (LGPLv3)", False),
        ("GPL-2.0-only OR MIT", False),
        ("Apache-2.0", False),
        ("MIT", False),
    ],
)
def test_which_licences_are_refused(licence: str, refused: bool) -> None:
    assert licences.is_refused(licence) is refused


def test_a_gpl_dependency_is_found_through_another_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _dist(tmp_path, "fake_gpl_lib", licence="GPL-3.0-only")
    _dist(tmp_path, "fake_wrapper", licence="MIT", requires=("fake_gpl_lib>=1",))
    _dist(tmp_path, "fake_lesser", licence="LGPL-2.1-or-later")
    monkeypatch.syspath_prepend(str(tmp_path))
    found = {f.name: f for f in licences.check(["fake_wrapper", "fake_lesser"])}
    assert set(found) == {"fake_wrapper", "fake_gpl_lib", "fake_lesser"}
    assert found["fake_gpl_lib"].refused
    assert not found["fake_wrapper"].refused and not found["fake_lesser"].refused


def test_a_requirement_that_is_not_installed_is_an_error() -> None:
    with pytest.raises(licences.NotInstalled):
        licences.check(["surely-not-an-installed-package-x1"])


def test_the_project_passes() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "hub.licences"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "none under the GPL or AGPL" in done.stdout
    assert "inscriptis" in done.stdout and "html2text" not in done.stdout
