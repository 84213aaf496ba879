"""Configuration: a setting the product cannot run with stops any command with one line naming it."""

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from supportdesk import cli as cli_module
from supportdesk import db
from supportdesk.cli import app as cli
from supportdesk.config import Settings, get_settings


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("PORT", "99999", "less than or equal to 65535"),  # uvicorn listened on 99999 modulo 65536
        ("SUPPORTDESK_TOKEN_TTL_HOURS", "0", "greater than or equal to 1"),  # tokens dead on issue
        ("SUPPORTDESK_TOKEN_TTL_HOURS", "99999999", "less than or equal to 87600"),  # every login a 500
        ("SUPPORTDESK_LLM_TIMEOUT_SECONDS", "inf", "finite number"),
        ("SUPPORTDESK_MAX_BODY_BYTES", "-1", "greater than or equal to 1"),  # every POST a 413
        ("SUPPORTDESK_DB_POOL_SIZE", "-3", "greater than or equal to 1"),
        ("DATABASE_URL", "mysql://app@db/app", "must be a postgresql:// URL"),
        ("SUPPORTDESK_BACKUPS", "maybe", "valid boolean"),
        ("SUPPORTDESK_BACKUP_RECIPIENT", "garbage", "must be an age public key"),
        ("SUPPORTDESK_LLM_URL", "http://[::1:8080/v1", "Invalid port"),  # every confident answer failed
        ("SUPPORTDESK_LLM_URL", "http://127.0.0.1:9\t/v1", "non-printable"),
        ("SUPPORTDESK_LLM_URL", "api.example.com/v1", "must be an http:// or https:// URL"),
        ("SUPPORTDESK_LLM_URL", " https://api.example.com/v1", "must be an http:// or https:// URL"),
        ("HOST", "not a host", "should match pattern"),  # failed only once migrated, naming no setting
        ("SUPPORTDESK_AI_THREADS", "1000", "less than or equal to 64"),
    ],
)
def test_a_setting_out_of_range_is_one_line_naming_it(monkeypatch, name, value, message):
    with monkeypatch.context() as patched:
        patched.setenv(name, value)
        get_settings.cache_clear()
        result = CliRunner().invoke(cli, ["migrate"])
    get_settings.cache_clear()
    assert result.exit_code == 2, result.output
    assert f"error: {name}: " in result.output and message in result.output
    assert "Traceback" not in result.output


def test_a_database_that_does_not_answer_is_one_line(monkeypatch, unused_tcp_port):
    with monkeypatch.context() as patched:
        patched.setenv("DATABASE_URL", f"postgresql://app@127.0.0.1:{unused_tcp_port}/app")
        patched.setattr(db, "_database_url", None)  # this process's, found once
        get_settings.cache_clear()
        result = CliRunner().invoke(cli, ["migrate"])
    get_settings.cache_clear()
    assert result.exit_code == 1, result.output
    assert result.output.startswith("error: the database: ") and "Connection refused" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "arguments",
    [["worker", "--concurrency", "0"], ["worker", "--concurrency", "-1"], ["serve", "--port", "99999"]],
)
def test_an_option_out_of_range_is_refused_before_anything_runs(arguments):
    """A worker of no slots sat idle for ever; one of -1 restarted for ever, a traceback each time."""
    result = CliRunner().invoke(cli, arguments)
    assert result.exit_code == 2, result.output
    assert arguments[1] in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("HOST", "host"),
        ("PORT", "port"),
        ("SUPPORTDESK_DATA_DIR", "data_dir"),
        ("SUPPORTDESK_BACKUP_DIR", "backup_dir"),
        ("SUPPORTDESK_BACKUPS", "backups"),
        ("SUPPORTDESK_TOKEN_TTL_HOURS", "token_ttl_hours"),
        ("FORWARDED_ALLOW_IPS", "forwarded_allow_ips"),  # trusted no proxy, not even one on this host
    ],
)
def test_an_empty_setting_is_its_default(monkeypatch, name, field):
    """`HOST=` listened on every interface; an empty directory was the working one (initdb into it)."""
    monkeypatch.setenv(name, "")
    assert getattr(Settings(), field) == Settings.model_fields[field].default


def test_the_proxies_trusted_are_read_from_dot_env_and_given_to_the_server(monkeypatch, tmp_path):
    """Uvicorn reads FORWARDED_ALLOW_IPS from the environment alone: one in .env was ignored."""
    (tmp_path / ".env").write_text("FORWARDED_ALLOW_IPS=10.9.9.9\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    for name in ("DATABASE_URL", "SUPPORTDESK_INPROCESS_WORKER"):  # what `serve` sets for its processes
        monkeypatch.setenv(name, os.environ.get(name, ""))
    monkeypatch.setattr(cli_module, "_migrate", lambda: None)
    monkeypatch.setattr(cli_module, "_ready_to_run", lambda: asyncio.sleep(0))
    get_settings.cache_clear()
    served = {}
    monkeypatch.setattr("uvicorn.run", lambda *args, **options: served.update(options))
    try:
        result = CliRunner().invoke(cli, ["serve", "--no-worker"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert served["forwarded_allow_ips"] == "10.9.9.9"


def test_a_commands_help_is_shown_whatever_the_settings():
    """PORT=99999 answered `supportdesk backup --help` with the PORT error."""
    program = str(Path(sys.executable).parent / "supportdesk")
    shown = subprocess.run(
        [program, "backup", "--help"], env={**os.environ, "PORT": "99999"}, capture_output=True, text=True
    )
    assert shown.returncode == 0 and "Usage: supportdesk backup" in shown.stdout, shown.stderr
