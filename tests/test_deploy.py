"""The production files (deploy/, docs/deploy.md) against the code: every `hub` command and
option they run exists, every HUB_ variable is a setting, every path and route they name exists,
the ports agree, exactly one beat runs, the image is multi-stage, non-root and wheel-only, and
every metric the guide names is exported. (The Docker engine is not available here.)"""

from __future__ import annotations

import os
import re
import shlex
import tomllib
from pathlib import Path

import pytest
import typer
import yaml

from hub.cli import app as cli_app
from hub.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
GUIDE = ROOT / "docs" / "deploy.md"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
COMPOSE = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
DOCKERFILE = (DEPLOY / "Dockerfile").read_text()
try:  # typer 0.29 carries its own copy of click
    from typer._click.exceptions import UsageError
except ImportError:  # pragma: no cover - older typer on click itself
    from click import UsageError

# Variables that are not hub settings but are read by what the hub runs on.
OTHER_VARIABLES = {"PROMETHEUS_MULTIPROC_DIR", "FORWARDED_ALLOW_IPS", "XDG_DATA_HOME"}


def _all_text() -> dict[str, str]:
    files = [p for p in DEPLOY.rglob("*") if p.is_file()] + [GUIDE]
    return {str(p.relative_to(ROOT)): p.read_text() for p in files}


def _hub_commands() -> list[tuple[str, list[str]]]:
    """(where, argv after `hub`) of every hub command the files run or the guide shows."""
    found: list[tuple[str, list[str]]] = []
    for name, service in COMPOSE["services"].items():
        command = service.get("command")
        if isinstance(command, list) and command[:1] == ["hub"]:
            found.append((f"compose:{name}", command[1:]))
    cmd = re.search(r"^CMD (\[.*\])$", DOCKERFILE, re.M)
    assert cmd
    argv = yaml.safe_load(cmd.group(1))
    found.append(("Dockerfile CMD", argv[1:]))
    for unit in UNITS:
        for line in unit.read_text().splitlines():
            if line.startswith("ExecStart="):
                parts = shlex.split(line.removeprefix("ExecStart="))
                assert parts[0] == "/opt/teleops-hub/bin/hub", unit.name
                found.append((unit.name, parts[1:]))
    for snippet in re.findall(r"`(hub [^`]+)`", GUIDE.read_text()):
        # The guide writes N for a count of the reader's choosing.
        argv = ["2" if word == "N" else word for word in shlex.split(snippet)[1:]]
        found.append(("docs/deploy.md", argv))
    for block in re.findall(r"```\n(.*?)```", GUIDE.read_text(), re.S):
        for line in block.splitlines():
            line = line.split("#", 1)[0].strip()
            if line.startswith("hub "):
                found.append(("docs/deploy.md block", shlex.split(line)[1:]))
    return found


def _parse(args: list[str]) -> None:
    """Parse ``hub <args>`` as the CLI would, without running it (unknown command or option:
    UsageError)."""
    command = typer.main.get_command(cli_app)
    ctx = command.make_context("hub", list(args), resilient_parsing=False)
    while hasattr(command, "resolve_command"):
        rest = list(getattr(ctx, "_protected_args", None) or []) + list(ctx.args)
        if not rest:
            return
        name, sub, remaining = command.resolve_command(ctx, rest)
        assert sub is not None, name
        command = sub
        ctx = command.make_context(name, remaining, parent=ctx, resilient_parsing=False)


def test_every_hub_command_and_option_exists() -> None:
    commands = _hub_commands()
    assert len(commands) >= 10
    for where, args in commands:
        try:
            _parse(args)
        except UsageError as exc:
            pytest.fail(f"{where}: hub {' '.join(args)}: {exc}")


def test_an_unknown_option_would_be_caught() -> None:
    with pytest.raises(UsageError):
        _parse(["serve", "--no-such-option"])
    with pytest.raises(UsageError):
        _parse(["no-such-command"])


def test_every_hub_variable_is_a_setting() -> None:
    settings = {f"HUB_{name.upper()}" for name in Settings.model_fields}
    # A setting read under other names too (HUB_RATELIMIT_STORAGE, the documented one).
    for field in Settings.model_fields.values():
        choices = getattr(field.validation_alias, "choices", ())
        settings |= {c for c in choices if isinstance(c, str) and c.startswith("HUB_")}
    for where, text in _all_text().items():
        for name in set(re.findall(r"\bHUB_[A-Z0-9_]*[A-Z0-9]\b", text)):
            assert name in settings, f"{where}: {name} is not a setting"


def test_the_other_variables_are_read_by_what_runs() -> None:
    import uvicorn.config

    assert "PROMETHEUS_MULTIPROC_DIR" in (ROOT / "hub" / "metrics.py").read_text()
    assert "FORWARDED_ALLOW_IPS" in Path(uvicorn.config.__file__).read_text()
    assert "XDG_DATA_HOME" in (ROOT / "hub" / "settings.py").read_text()
    env_example = (DEPLOY / "hub.env.example").read_text()
    for name in re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", env_example, re.M):
        assert name.startswith("HUB_") or name in OTHER_VARIABLES, name


def test_the_entry_point_and_the_paths_exist() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["hub"] == "hub.cli:main"
    for source in re.findall(r"^COPY (?!--from)(\S+(?: \S+)*) \S+$", DOCKERFILE, re.M):
        for path in source.split():
            assert (ROOT / path).exists(), f"Dockerfile copies {path}"
    build = COMPOSE["x-hub"]["build"]
    context = (DEPLOY / build["context"]).resolve()
    assert context == ROOT and (context / build["dockerfile"]).is_file()
    assert (DEPLOY / "hub.env.example").is_file()  # what the guide copies to hub.env
    for volume in COMPOSE["services"]["proxy"]["volumes"]:
        host = volume.split(":", 1)[0]
        if host.endswith(".conf"):
            assert (DEPLOY / host).is_file(), host
    for mentioned in set(re.findall(r"`(deploy/[^`\s]+)`", GUIDE.read_text())):
        assert (ROOT / mentioned.rstrip("/")).exists(), mentioned
    for path in sorted(DEPLOY.rglob("*")):
        if path.is_file():
            rel = path.relative_to(ROOT).as_posix()
            assert rel in GUIDE.read_text() or path.name in GUIDE.read_text(), rel


def test_ports_agree_with_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [k for k in os.environ if k.startswith("HUB_")]:
        monkeypatch.delenv(name)
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    expose = re.search(r"^EXPOSE (.+)$", DOCKERFILE, re.M)
    assert expose and expose.group(1).split() == [str(defaults.port), str(defaults.smtp_port)]
    nginx = (DEPLOY / "nginx.conf").read_text()
    upstreams = re.findall(r"server (api-\d):(\d+)", nginx)
    assert {name for name, _ in upstreams} == {"api-1", "api-2"} <= set(COMPOSE["services"])
    assert {port for _, port in upstreams} == {str(defaults.port)}
    assert COMPOSE["services"]["smtp"]["ports"] == [f"25:{defaults.smtp_port}"]


def test_the_installation_has_every_process_and_one_beat() -> None:
    services = COMPOSE["services"]
    for name in ("postgres", "redis", "api-1", "api-2", "worker", "beat", "smtp", "migrate"):
        assert name in services
    beats = [n for n, s in services.items() if "--beat" in (s.get("command") or [])]
    assert beats == ["beat"]
    beat_units = [u.name for u in UNITS if "--beat" in u.read_text()]
    assert beat_units == ["teleops-hub-beat.service"]


def test_the_image_is_multi_stage_non_root_and_wheel_only() -> None:
    stages = re.findall(r"^FROM \S+ AS (\w+)$", DOCKERFILE, re.M)
    assert stages == ["build", "runtime"]
    runtime = DOCKERFILE.split("AS runtime", 1)[1]
    assert re.search(r"^USER (?!root)\w+", runtime, re.M)
    copies = re.findall(r"^COPY (.+)$", runtime, re.M)
    assert copies and all(c.startswith("--from=build /wheels") for c in copies), copies
    assert "--no-index" in runtime


def test_routes_the_proxy_and_guide_name_exist(client) -> None:  # type: ignore[no-untyped-def]
    nginx = (DEPLOY / "nginx.conf").read_text()
    assert "location = /events" in nginx
    assert client.get("/events").status_code != 404
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    for path in re.findall(r"`GET (/\w+)`", GUIDE.read_text()):
        assert path in ("/healthz", "/readyz", "/metrics")


def test_every_metric_the_guide_names_is_exported(hub) -> None:  # type: ignore[no-untyped-def]
    from prometheus_client.parser import text_string_to_metric_families

    from hub import metrics

    body, _ = metrics.scrape(hub)
    names = set()
    for family in text_string_to_metric_families(body.decode()):
        names.add(family.name)
        names.update(sample.name for sample in family.samples)
    for name in set(re.findall(r"`(hub_[a-z_]+)`", GUIDE.read_text())):
        # A labelled counter shows its samples (``_total``) once a label is used.
        assert name in names or name.removesuffix("_total") in names, name
