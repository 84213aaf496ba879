"""Configuration: a setting the product cannot run with stops any command with one line naming it."""

import pytest
from typer.testing import CliRunner

from supportdesk.cli import app as cli
from supportdesk.config import get_settings


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("PORT", "99999", "less than or equal to 65535"),  # uvicorn listened on 99999 modulo 65536
        ("SUPPORTDESK_TOKEN_TTL_HOURS", "0", "greater than or equal to 1"),  # tokens dead on issue
        ("SUPPORTDESK_MAX_BODY_BYTES", "-1", "greater than or equal to 1"),  # every POST a 413
        ("SUPPORTDESK_DB_POOL_SIZE", "-3", "greater than or equal to 1"),
        ("DATABASE_URL", "mysql://app@db/app", "must be a postgresql:// URL"),
        ("SUPPORTDESK_BACKUPS", "maybe", "valid boolean"),
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
