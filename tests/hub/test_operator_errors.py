"""Errors an operator can act on: one line naming the setting, a non-zero exit, no traceback
(bad database URL, a database that refuses, a port in use, an unwritable data directory, pending
migrations); ``hub check`` shows every effective setting with secrets masked and tests each
dependency; the data directory defaults to one per-user place, never the working folder."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from typer.testing import CliRunner

from hub.cli import app
from hub.migrate import alembic_config, upgrade
from hub.settings import Settings
from tests.services import free_port

ROOT = Path(__file__).resolve().parents[2]
KEY = "operator-secret-key-0123456789"
runner = CliRunner()


def _env(tmp_path: Path, **extra: str) -> dict[str, str | None]:
    """Only the variables given: no HUB_ setting of the test process leaks in (None unsets)."""
    base: dict[str, str | None] = {k: None for k in os.environ if k.startswith("HUB_")}
    # ``hub smtp --port`` sets these in the process: the runner puts them back afterwards.
    base.update(HUB_SMTP_HOST=None, HUB_SMTP_PORT=None, HUB_SMTP_PROCESSES=None)
    return {**base, "HUB_DATA_DIR": str(tmp_path / "data"), "HUB_SECRET_KEY": KEY, **extra}


def _one_line_error(result, *needles: str) -> str:  # type: ignore[no-untyped-def]
    assert result.exit_code not in (0, None), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    out = result.output.strip()
    assert "Traceback" not in out
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 1, out
    for needle in needles:
        assert needle in out, out
    return out


def test_bad_database_url(tmp_path: Path) -> None:
    result = runner.invoke(app, ["migrate"], env=_env(tmp_path, HUB_DATABASE_URL="nosuch://x/y"))
    _one_line_error(result, "HUB_DATABASE_URL")


def test_a_database_that_refuses_names_it_without_the_password(tmp_path: Path) -> None:
    url = f"postgresql://hub:s3cretpw@127.0.0.1:{free_port()}/hub"
    result = runner.invoke(app, ["migrate"], env=_env(tmp_path, HUB_DATABASE_URL=url))
    out = _one_line_error(result, "HUB_DATABASE_URL", "refuses")
    assert "s3cretpw" not in out


def test_an_unwritable_data_directory(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    env = _env(tmp_path, HUB_DATA_DIR=str(blocker / "data"))
    result = runner.invoke(app, ["migrate"], env=env)
    _one_line_error(result, "HUB_DATA_DIR", str(blocker / "data"))


def test_pending_migrations_stop_serve_worker_and_smtp(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    command.upgrade(alembic_config(url), "0001_foundation")
    env = _env(tmp_path, HUB_DATABASE_URL=url, HUB_PORT=str(free_port()))
    for args in (["serve"], ["worker"], ["smtp", "--port", str(free_port())]):
        _one_line_error(runner.invoke(app, args, env=env), "hub migrate")


def test_a_port_in_use_names_the_setting(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.sqlite3'}"
    upgrade(url)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = _env(tmp_path, HUB_DATABASE_URL=url, HUB_PORT=str(port), HUB_SMTP_PORT=str(port))
        _one_line_error(runner.invoke(app, ["serve"], env=env), "HUB_PORT", str(port))
        _one_line_error(runner.invoke(app, ["smtp"], env=env), "HUB_SMTP_PORT", str(port))


def test_a_bad_setting_value_names_the_variable(tmp_path: Path) -> None:
    result = runner.invoke(app, ["migrate"], env=_env(tmp_path, HUB_LOG_FORMAT="xml"))
    _one_line_error(result, "HUB_LOG_FORMAT")


def test_no_traceback_from_the_real_command(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(HUB_DATA_DIR=str(tmp_path), HUB_DATABASE_URL="nosuch://x", PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-m", "hub.cli", "migrate"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1, done.stderr
    assert "HUB_DATABASE_URL" in done.stderr


def test_hub_check_shows_settings_masked_and_tests_dependencies(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.sqlite3'}"
    upgrade(url)
    good = runner.invoke(
        app,
        ["check"],
        env=_env(tmp_path, HUB_DATABASE_URL=url, HUB_METRICS_TOKEN="metrics-token-xyz"),
    )
    assert good.exit_code == 0, good.output
    for name in ("HUB_DATABASE_URL", "HUB_SECRET_KEY", "HUB_METRICS_TOKEN", "HUB_LOG_LEVEL"):
        assert name in good.output
    assert KEY not in good.output and "metrics-token-xyz" not in good.output
    for check in ("database: ok", "migrations: ok", "broker: ok", "secrets: ok"):
        assert check in good.output

    bad_url = f"postgresql://hub:s3cretpw@127.0.0.1:{free_port()}/hub"
    bad = runner.invoke(app, ["check"], env=_env(tmp_path, HUB_DATABASE_URL=bad_url))
    assert bad.exit_code == 1
    assert "database: failed" in bad.output and "s3cretpw" not in bad.output


def test_the_data_directory_defaults_to_one_place_not_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [k for k in os.environ if k.startswith("HUB_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.data_dir == tmp_path / "xdg" / "teleops-hub"
    assert settings.resolved_database_url.endswith("/xdg/teleops-hub/hub.sqlite3")
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert Settings(_env_file=None).data_dir == tmp_path / "home/.local/share/teleops-hub"  # type: ignore[call-arg]
