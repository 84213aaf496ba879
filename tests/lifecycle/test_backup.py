"""Backups and a restore to a point in time, done as an operator does them: the `supportdesk` program
against an embedded PostgreSQL of its own (not the suite's), stopped between commands."""

import json
import os
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyrage
import pytest

from supportdesk.lifecycle import backup

ROOT = Path(__file__).parents[2]


@pytest.fixture
def run(tmp_path):
    environment = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    environment |= {"SUPPORTDESK_DATA_DIR": str(tmp_path / "data"), "SUPPORTDESK_BACKUPS": "1"}

    def run(*args: str, module: str | None = None) -> subprocess.CompletedProcess:
        program = (
            [sys.executable, "-m", module] if module else [str(Path(sys.executable).parent / "supportdesk")]
        )
        return subprocess.run(
            [*program, *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300
        )

    return run


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_a_restore_brings_the_database_back_to_a_point_in_time(run, tmp_path):
    ok(run("migrate"))
    assert "backup written" in ok(run("backup"))
    between = ok(run("write", "before", "after", module="tests.lifecycle.probe")).splitlines()[-1]
    ok(run("write", "later", "latest", module="tests.lifecycle.probe"))
    ok(run("switch", module="tests.lifecycle.probe"))

    restored = ok(run("restore", "--to", between))

    assert f"restored to {between}" in restored
    assert ok(run("read", module="tests.lifecycle.probe")) == "before"
    (replaced,) = tmp_path.glob("data.replaced-*")
    assert f"the data it replaced is in {replaced}" in restored
    # Everything at rest is encrypted, and only the generated identity file decrypts it.
    backups = tmp_path / "data-backups"
    stored = [*backups.glob("base/*.tar.age"), *backups.glob("wal/*.age")]
    assert len(stored) >= 3 and all(path.read_bytes().startswith(b"age-encryption.org/v1") for path in stored)
    identity = tmp_path / "data-backup-identity.txt"
    assert stat.S_IMODE(identity.stat().st_mode) == 0o600

    # And to the latest change archived, from the restored server's own new history.
    ok(run("write", "again", "and again", module="tests.lifecycle.probe"))
    ok(run("switch", module="tests.lifecycle.probe"))
    ok(run("restore"))
    assert ok(run("read", module="tests.lifecycle.probe")) == "before again and again"


def test_a_restore_that_cannot_be_done_says_why_and_changes_nothing(run, tmp_path):
    ok(run("migrate"))
    too_early = "2000-01-01T00:00:00+00:00"
    refused = run("restore", "--to", too_early)
    assert refused.returncode == 1 and "no full backup finished before" in refused.stderr
    assert run("restore", "--to", "yesterday").returncode == 2
    assert run("restore", "--to", "2026-11-26T09:30:00").returncode == 2  # no UTC offset

    ok(run("backup"))
    wrong_key = tmp_path / "other-identity.txt"
    wrong_key.write_text("not a key\n")
    refused = run("restore", "--identity", str(wrong_key))
    assert refused.returncode == 1 and "not an age identity file" in refused.stderr
    assert list(tmp_path.glob("data.replaced-*")) == []
    ok(run("write", "still", "here", module="tests.lifecycle.probe"))
    assert ok(run("read", module="tests.lifecycle.probe")) == "still here"


def test_backups_past_thirty_days_go_with_the_wal_only_they_needed_but_the_newest_stays(
    tmp_path, monkeypatch
):
    layout = backup.Layout(tmp_path, tmp_path / "identity.txt")
    monkeypatch.setattr(backup, "layout", lambda: layout)
    layout.base.mkdir()
    layout.wal.mkdir()
    now = datetime.now(UTC)
    for name, age, start in (("old", 40, 0x0A), ("older-but-kept", 29, 0x10), ("recent", 1, 0x20)):
        finished = (now - timedelta(days=age)).isoformat()
        (layout.base / f"{name}.json").write_text(
            json.dumps({"finished_at": finished, "start_wal": f"{1:08X}{0:08X}{start:08X}"})
        )
        (layout.base / f"{name}.tar.age").write_bytes(b"")
    segments = [f"{1:08X}{0:08X}{number:08X}" for number in range(0x08, 0x24)]
    for name in [*segments, "00000002.history"]:
        (layout.wal / f"{name}.age").write_bytes(b"")

    backup.prune(now)

    assert sorted(path.name for path in layout.base.iterdir()) == [
        "older-but-kept.json",
        "older-but-kept.tar.age",
        "recent.json",
        "recent.tar.age",
    ]
    kept = {path.name.removesuffix(".age") for path in layout.wal.iterdir()}
    assert kept == {
        "00000002.history",
        *(segment for segment in segments if segment >= "000000010000000000000010"),
    }

    backup.prune(now + timedelta(days=100))  # every backup expired: the newest is kept all the same
    assert sorted(path.name for path in layout.base.iterdir()) == ["recent.json", "recent.tar.age"]


def test_the_outbox_is_sealed_into_the_archive_whole_segments_only(tmp_path, monkeypatch):
    layout = backup.Layout(tmp_path / "backups", tmp_path / "identity.txt")
    monkeypatch.setattr(backup, "layout", lambda: layout)
    backup.prepare(None)
    segment = b"\x01WAL" * 1000
    (layout.outbox / "000000010000000000000001").write_bytes(segment)
    (layout.outbox / "000000010000000000000002.partial").write_bytes(b"being copied")
    (layout.outbox / "000000010000000000000003").write_bytes(b"archived already")
    (layout.wal / "000000010000000000000003.age").write_bytes(b"the first copy")

    assert backup.seal() == 1

    assert sorted(path.name for path in layout.outbox.iterdir()) == ["000000010000000000000002.partial"]
    assert (layout.wal / "000000010000000000000003.age").read_bytes() == b"the first copy"
    sealed = (layout.wal / "000000010000000000000001.age").read_bytes()
    assert sealed.startswith(b"age-encryption.org/v1") and segment not in sealed
    identity = backup.read_identity(layout.identity)
    assert pyrage.decrypt(sealed, [identity]) == segment
