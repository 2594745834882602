"""The licence check of ``make lint``: no GPL or AGPL code among the hub's runtime dependencies.

The hub is Apache-2.0; a runtime dependency under the GPL or AGPL would bind what we ship to
that licence. This walks the installed distribution's runtime requirements (extras such as
``dev`` left out) recursively through ``importlib.metadata``, reads each one's licence (the
``License-Expression`` field, else the ``License`` field, else the trove classifiers) and fails
on a GPL or AGPL one. LGPL is allowed (linking from Python does not extend it to us), and a
choice such as ``GPL-2.0 OR MIT`` passes when one alternative is allowed.

``python -m hub.licences`` prints each dependency's licence and exits 1 on a refusal.
"""

from __future__ import annotations

import re
import sys
import tomllib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

PROJECT = "teleops-support-hub"
PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
_GPL = re.compile(r"\b(A?GPL|GNU (Affero )?General Public)", re.IGNORECASE)
_LGPL = re.compile(r"\b(LGPL|GNU Lesser|GNU Library)", re.IGNORECASE)


@dataclass(frozen=True)
class Finding:
    name: str
    version: str
    licence: str
    refused: bool


def licence_of(dist: metadata.Distribution) -> str:
    meta: Any = dist.metadata
    expression = meta.get("License-Expression")
    if expression:
        return str(expression).strip()
    classifiers = [
        c.split("::")[-1].strip()
        for c in meta.get_all("Classifier") or ()
        if c.startswith("License ::") and "OSI Approved" != c.split("::")[-1].strip()
    ]
    if classifiers:
        return " OR ".join(classifiers)
    text = str(meta.get("License") or "").strip()
    return text.splitlines()[0][:120] if text else "UNKNOWN"


def is_refused(licence: str) -> bool:
    """A GPL or AGPL licence with no permitted alternative."""
    alternatives = re.split(r"\s+OR\s+|\s*/\s*|\s+or\s+", licence)
    return all(_is_copyleft(alt) for alt in alternatives if alt.strip())


def _is_copyleft(licence: str) -> bool:
    if _LGPL.search(licence) or "lesser" in licence.lower():
        return False
    return bool(_GPL.search(licence))


def project_requirements(pyproject: Path = PYPROJECT) -> list[str]:
    """The runtime requirements as pyproject.toml states them now (the installed metadata may
    be older than the working tree)."""
    data = tomllib.loads(pyproject.read_text())
    return list(data["project"]["dependencies"])


def runtime_dependencies(
    requirements: list[str] | None = None, project: str = PROJECT
) -> list[metadata.Distribution]:
    """The given requirements (by default the project's, from pyproject.toml when it is there,
    else from its installed metadata) and theirs, recursively: markers evaluated, no extras
    except those a requirement asks for."""
    seen: dict[str, metadata.Distribution] = {}
    visited: set[tuple[str, frozenset[str]]] = set()
    missing: set[str] = set()
    env: dict[str, Any] = dict(default_environment())
    if requirements is None and PYPROJECT.is_file():
        requirements = project_requirements()
    todo: list[tuple[str, frozenset[str]]] = (
        [(Requirement(r).name, frozenset(Requirement(r).extras)) for r in requirements]
        if requirements is not None
        else [(project, frozenset())]
    )
    while todo:
        name, extras = todo.pop()
        if (canonicalize_name(name), extras) in visited:
            continue
        visited.add((canonicalize_name(name), extras))
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            missing.add(name)
            continue
        seen.setdefault(canonicalize_name(dist.metadata["Name"]), dist)
        for raw in dist.requires or ():
            req = Requirement(raw)
            if req.marker is not None:
                wanted = any(
                    req.marker.evaluate({**env, "extra": extra}) for extra in (extras or {""})
                )
                if not wanted:
                    continue
            todo.append((req.name, frozenset(req.extras)))
    seen.pop(canonicalize_name(project), None)
    if missing:
        raise NotInstalled(sorted(missing))
    return sorted(seen.values(), key=lambda d: canonicalize_name(d.metadata["Name"]))


class NotInstalled(Exception):
    """Requirements that are not installed: their licence cannot be read."""


def check(requirements: list[str] | None = None) -> list[Finding]:
    found = []
    for dist in runtime_dependencies(requirements):
        licence = licence_of(dist)
        found.append(Finding(dist.metadata["Name"], dist.version, licence, is_refused(licence)))
    return found


def main() -> int:
    try:
        findings = check()
    except NotInstalled as exc:
        names = ", ".join(exc.args[0])
        print(f"not installed, licence unknown: {names} (run `pip install -e .`)", file=sys.stderr)
        return 1
    for f in findings:
        mark = "REFUSED" if f.refused else "ok"
        print(f"{mark:8} {f.name} {f.version}: {f.licence}")
    refused = [f for f in findings if f.refused]
    if refused:
        names = ", ".join(f"{f.name} ({f.licence})" for f in refused)
        print(f"GPL/AGPL runtime dependencies: {names}", file=sys.stderr)
        return 1
    print(f"{len(findings)} runtime dependencies, none under the GPL or AGPL")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
