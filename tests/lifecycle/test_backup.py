"""Backups and a restore to a point in time, done as an operator does them: the `supportdesk` program
against an embedded PostgreSQL of its own (not the suite's), stopped between commands."""

import fcntl
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
    def probe(*args: str) -> str:
        return ok(run(*args, module="tests.lifecycle.probe"))

    ok(run("migrate"))
    assert "backup written" in ok(run("backup"))
    between = probe("write", "before", "after").splitlines()[-1]
    ok(run("backup"))  # a second backup, on the history the restore below leaves
    probe("switch")

    restored = ok(run("restore", "--to", between))

    assert probe("read") == "before"
    (replaced,) = tmp_path.glob("data.replaced-*")
    assert f"the data it replaced is in {replaced}" in restored
    # Everything at rest is encrypted, to a key whose private half is only in the identity file.
    backups = tmp_path / "data-backups"
    stored = [*backups.glob("base/*.tar.age"), *backups.glob("wal/*.age")]
    assert len(stored) >= 4 and all(path.read_bytes().startswith(b"age-encryption.org/v1") for path in stored)
    assert list(backups.glob("outbox/*")) == []
    identity = tmp_path / "data-backup-identity.txt"
    assert stat.S_IMODE(identity.stat().st_mode) == 0o600

    # The restored server goes on along a new history: a restore into it starts from the first backup,
    # not from the second, taken on the history left behind. The identity may be moved away meanwhile.
    moved = identity.rename(tmp_path / "kept-elsewhere.txt")
    between = probe("write", "again", "and again").splitlines()[-1]
    probe("switch")
    restored = ok(run("restore", "--to", between, "--identity", str(moved)))
    assert probe("read") == "before again"
    assert not identity.exists()  # the backups went on with the same key, not a new one

    # A time past the archive's end restores to its end, and says so.
    restored = ok(run("restore", "--to", "2999-01-01T00:00:00+00:00", "--identity", str(moved)))
    assert "the archive ends before 2999-01-01T00:00:00+00:00: restored to its end" in restored
    assert probe("read") == "before again"


def test_a_restore_that_cannot_be_done_says_why_and_changes_nothing(run, tmp_path):
    ok(run("migrate"))
    too_early = "2000-01-01T00:00:00+00:00"
    refused = run("restore", "--to", too_early)
    assert refused.returncode == 1 and "no full backup finished before" in refused.stderr
    assert run("restore", "--to", "yesterday").returncode == 2
    assert run("restore", "--to", "2026-11-26T09:30:00").returncode == 2  # no UTC offset

    ok(run("backup"))
    not_a_key = tmp_path / "not-a-key.txt"
    not_a_key.write_text("not a key\n")
    refused = run("restore", "--identity", str(not_a_key))
    assert refused.returncode == 1 and "not an age identity file" in refused.stderr
    another_key = tmp_path / "another-key.txt"
    another_key.write_text(f"{pyrage.x25519.Identity.generate()}\n")
    refused = run("restore", "--identity", str(another_key))
    assert refused.returncode == 1 and "none of the identities given decrypts it" in refused.stderr
    with (tmp_path / ".data-restore.lock").open("w") as lock:  # a restore running
        fcntl.flock(lock, fcntl.LOCK_EX)
        refused = run("restore")
    assert refused.returncode == 1 and "another restore of this data directory is running" in refused.stderr

    assert list(tmp_path.glob("data.replaced-*")) == []
    probe = ok(run("write", "still", "here", module="tests.lifecycle.probe"))
    assert probe and ok(run("read", module="tests.lifecycle.probe")) == "still here"


def test_backups_no_restore_of_the_last_thirty_days_needs_go_with_the_wal_only_they_needed(
    tmp_path, monkeypatch
):
    layout = backup.Layout(tmp_path, tmp_path / "identity.txt")
    monkeypatch.setattr(backup, "layout", lambda: layout)
    layout.base.mkdir()
    layout.wal.mkdir()
    now = datetime.now(UTC)
    # "31 days" is what a restore to 30 days ago starts from.
    for name, age, start in (
        ("40 days", 40, 0x0A),
        ("31 days", 31, 0x10),
        ("29 days", 29, 0x14),
        ("1 day", 1, 0x20),
    ):
        finished = (now - timedelta(days=age)).isoformat()
        manifest = {
            "finished_at": finished,
            "start_wal": f"{1:08X}{0:08X}{start:08X}",
            "timeline": 1,
            "end_lsn": 0,
        }
        (layout.base / f"{name}.json").write_text(json.dumps(manifest))
        (layout.base / f"{name}.tar.age").write_bytes(b"")
    segments = [f"{1:08X}{0:08X}{number:08X}" for number in range(0x08, 0x24)]
    for name in [*segments, "00000002.history"]:
        (layout.wal / f"{name}.age").write_bytes(b"")

    backup.prune(now)

    assert [found.manifest.stem for found in backup.backups()] == ["31 days", "29 days", "1 day"]
    kept = {path.name.removesuffix(".age") for path in layout.wal.iterdir()}
    assert kept == {
        "00000002.history",
        *(segment for segment in segments if segment >= "000000010000000000000010"),
    }

    backup.prune(now + timedelta(days=100))  # every backup expired: the newest is kept all the same
    assert [found.manifest.stem for found in backup.backups()] == ["1 day"]


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
