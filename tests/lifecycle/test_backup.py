"""Backups and a restore to a point in time, done as an operator does them: the `supportdesk` program
against an embedded PostgreSQL of its own (not the suite's), stopped between commands."""

import concurrent.futures
import fcntl
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from subprocess import PIPE

import psycopg
import pyrage
import pytest

from supportdesk import embedded
from supportdesk.config import Settings
from supportdesk.lifecycle import backup, keys, restore

ROOT = Path(__file__).parents[2]


def as_from_a_terminal() -> None:
    """Ctrl-C reaches a server as from an operator's terminal, even when the tests run in the background
    of a script, whose commands ignore SIGINT (as Python then does: the worker ran on, for ever)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture
def run(tmp_path):
    base_environment = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    base_environment |= {"SUPPORTDESK_DATA_DIR": str(tmp_path / "data")}

    def run(
        *args: str,
        module: str | None = None,
        background: bool = False,
        log: Path | None = None,
        backups: bool = True,
        env: dict[str, str] | None = None,
    ):
        program = (
            [sys.executable, "-m", module] if module else [str(Path(sys.executable).parent / "supportdesk")]
        )
        environment = {**base_environment, "SUPPORTDESK_BACKUPS": "1" if backups else "0", **(env or {})}
        if log is not None:  # a server: its log in a file, which no pipe left unread can hold up
            with log.open("w") as output:
                return subprocess.Popen(
                    [*program, *args],
                    cwd=ROOT,
                    env=environment,
                    stdout=output,
                    stderr=output,
                    preexec_fn=as_from_a_terminal,
                )
        if background:
            return subprocess.Popen(
                [*program, *args], cwd=ROOT, env=environment, stdout=PIPE, stderr=PIPE, text=True
            )
        return subprocess.run(
            [*program, *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300
        )

    return run


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture
def serve(run, tmp_path):
    """Start `supportdesk serve` (or another long-running command) in the background; returns its log.
    Whatever is still running at the end is stopped with Ctrl-C, as an operator stops it."""
    started: list[subprocess.Popen] = []

    def serve(*args: str, backups: bool = True) -> Path:
        log = tmp_path / f"{args[0]}-{len(started)}.log"
        with socket.socket() as free:
            free.bind(("127.0.0.1", 0))
            port = free.getsockname()[1]
        options = ["--port", str(port)] if args[0] == "serve" else []
        started.append(run(*args, *options, log=log, backups=backups))
        return log

    def stop() -> None:
        for process in started:
            process.send_signal(signal.SIGINT)
        for process in started:
            assert process.wait(timeout=120) in (0, 1, -signal.SIGINT)
        started.clear()

    serve.stop = stop
    yield serve
    stop()


def wait_until(condition, what: str, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} after {timeout:.0f} s"
        time.sleep(0.5)


def test_a_new_server_takes_its_first_full_backup_at_once_and_one_only(run, serve, tmp_path):
    def probe(*args: str) -> str:
        return ok(run(*args, module="tests.lifecycle.probe"))

    base = tmp_path / "data-backups" / "base"
    ok(run("migrate"))  # a new install's first start, alone: its server archives the WAL from then on
    serve("serve")
    serve("worker")  # a second process starting at the same time asks for one too

    wait_until(lambda: list(base.glob("*.json")), "no full backup")
    wait_until(lambda: probe("jobs", "take_first_backup") == "0", "first backups still waiting")
    serve.stop()
    log = serve("serve")  # started again, it finds the backup of its history
    wait_until(lambda: "the archive holds a full backup of this history" in log.read_text(), "no check")
    serve.stop()

    assert len(list(base.glob("*.tar.age"))) == 1
    probe("write", "since", "the install")
    ok(run("restore"))
    assert probe("read") == "since the install"


def test_a_restored_history_gets_its_first_full_backup_when_the_server_starts(run, serve, tmp_path):
    def probe(*args: str) -> str:
        return ok(run(*args, module="tests.lifecycle.probe"))

    ok(run("migrate"))
    ok(run("backup"))
    probe("write", "restored", "history")
    assert probe("restore-failing-its-backup") == "no space left on device"
    base = tmp_path / "data-backups" / "base"
    assert list(base.iterdir()) == []
    refused = run("restore")
    assert refused.returncode == 1 and "no full backup finished before now" in refused.stderr

    serve("serve")
    wait_until(lambda: list(base.glob("*.json")), "no full backup of the restored history")
    serve.stop()

    probe("write", "and", "since")
    ok(run("restore"))
    assert probe("read") == "restored history and since"


def test_a_restore_brings_the_database_back_to_a_point_in_time(run, tmp_path):
    def probe(*args: str) -> str:
        return ok(run(*args, module="tests.lifecycle.probe"))

    ok(run("migrate"))
    assert "backup written" in ok(run("backup"))
    between = probe("write", "before", "after").splitlines()[-1]
    ok(run("backup"))
    probe("switch")

    restored = ok(run("restore", "--to", between))

    assert probe("read") == "before"
    (replaced,) = tmp_path.glob("data.replaced-*")
    assert f"the data it replaced is in {replaced}" in restored
    # The archive it restored from is moved aside whole; a new one starts with a backup of the restore.
    backups = tmp_path / "data-backups"
    (left,) = backups.glob("replaced-*")
    assert len(list(left.glob("base/*.tar.age"))) == 2
    assert len(list(backups.glob("base/*.tar.age"))) == 1 and "a full backup of what it restored" in restored
    # Everything at rest is encrypted, to a key whose private half is only in the identity file.
    stored = [*backups.rglob("*.age")]
    assert len(stored) >= 6 and all(path.read_bytes().startswith(b"age-encryption.org/v1") for path in stored)
    assert list(backups.glob("outbox/*")) == []
    identity = tmp_path / "data-backup-identity.txt"
    assert stat.S_IMODE(identity.stat().st_mode) == 0o600

    # The identity may be moved away: backups go on with the same key.
    moved = identity.rename(tmp_path / "kept-elsewhere.txt")
    between = probe("write", "again", "and again").splitlines()[-1]  # archived by the clean stop alone
    ok(run("restore", "--to", between, "--identity", str(moved)))
    assert probe("read") == "before again"
    assert not identity.exists()

    # A time past the archive's end restores to its end, and says so.
    past_the_end = run("restore", "--to", "2999-01-01T00:00:00+00:00", "--identity", str(moved))
    restored = ok(past_the_end)
    assert "the archive ends before 2999-01-01T00:00:00+00:00: restored to its end" in restored
    assert "Failed postgres command" not in past_the_end.stderr  # the replay that stops short, by design
    assert probe("read") == "before again"

    # The history the first restore left is still restorable from the archive it moved aside.
    ok(run("restore", "--from", str(left), "--identity", str(moved)))
    assert probe("read") == "before after"


def test_a_restore_past_a_missing_wal_segment_refuses_unless_told_to_stop_before_it(run, tmp_path):
    def probe(*args: str) -> str:
        return ok(run(*args, module="tests.lifecycle.probe"))

    wal = tmp_path / "data-backups" / "wal"

    def archived() -> set[str]:
        return {path.name for path in wal.glob("*.age")}

    ok(run("migrate"))
    ok(run("backup"))
    between = probe("write", "first", "second").splitlines()[-1]
    before = archived()
    probe("write", "third", "fourth")  # a clean stop archives the segment in progress
    lost = sorted(archived() - before)
    probe("write", "fifth", "sixth")
    for name in lost:
        (wal / name).unlink()

    refused = run("restore")

    assert refused.returncode == 1
    assert f"the archive lacks the WAL segment {lost[0].removesuffix('.age')}" in refused.stderr
    assert "`--up-to-a-gap` restores up to the last change before it" in refused.stderr
    assert probe("read") == "first second third fourth fifth sixth"  # put back as it was
    assert "restored up to the last change before it" in ok(run("restore", "--up-to-a-gap"))
    assert probe("read") == "first second"
    (with_the_gap,) = (tmp_path / "data-backups").glob("replaced-*")
    ok(run("restore", "--from", str(with_the_gap), "--to", between))  # a time before the gap
    assert probe("read") == "first"


def test_a_restore_stopped_or_killed_midway_puts_everything_back(run, tmp_path):
    ok(run("migrate"))
    ok(run("backup"))
    ok(run("write", "still", "here", module="tests.lifecycle.probe"))
    note = tmp_path / ".data-restore.json"

    for stop in (signal.SIGTERM, signal.SIGKILL):
        restoring = run("restore", background=True)
        while not (note.exists() and '"made": true' in note.read_text()):
            assert restoring.poll() is None, restoring.communicate()
            time.sleep(0.05)
        restoring.send_signal(stop)
        restoring.wait(timeout=60)
        if stop == signal.SIGKILL:
            refused = run("read", module="tests.lifecycle.probe")  # the server will not start half-made
            assert refused.returncode != 0 and "run `supportdesk restore` again" in refused.stderr
            ok(run("restore"))  # puts back what the killed one moved aside, then restores
        assert not note.exists()
        assert ok(run("read", module="tests.lifecycle.probe")) == "still here"
    assert len(list((tmp_path / "data-backups").glob("replaced-*"))) == 1  # the restore that finished


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
    refused = run("restore", "--identity", str(tmp_path / "nowhere.txt"))
    assert refused.returncode == 1 and "give the backups' private key with --identity" in refused.stderr
    with (tmp_path / ".data-restore.lock").open("w") as lock:  # a restore running
        fcntl.flock(lock, fcntl.LOCK_EX)
        refused = run("restore")
    assert refused.returncode == 1 and "another restore of this data directory is running" in refused.stderr
    (archive,) = (tmp_path / "data-backups" / "base").glob("*.tar.age")
    whole = archive.read_bytes()
    archive.write_bytes(whole[: len(whole) // 2])  # cut short: pyrage's OSError was the whole message
    refused = run("restore")
    assert refused.returncode == 1
    assert f"the full backup {archive.name}: cannot be read back" in refused.stderr
    archive.write_bytes(whole)

    assert list(tmp_path.glob("data.replaced-*")) == []
    assert list((tmp_path / "data-backups").glob("replaced-*")) == []
    probe = ok(run("write", "still", "here", module="tests.lifecycle.probe"))
    assert probe and ok(run("read", module="tests.lifecycle.probe")) == "still here"


def test_backups_no_restore_of_the_last_thirty_days_needs_go_with_the_wal_only_they_needed(
    tmp_path, monkeypatch
):
    layout = backup.Layout(tmp_path, tmp_path / "identity.txt")
    monkeypatch.setattr(backup, "layout", lambda: layout)
    archive = layout.archive
    archive.base.mkdir()
    archive.wal.mkdir()
    for days_ago in (31, 29):  # archives restores moved aside
        moved_at = datetime.now(UTC) - timedelta(days=days_ago)
        (tmp_path / f"replaced-{moved_at.strftime(backup.TIME_FORMAT)}" / "base").mkdir(parents=True)
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
        (archive.base / f"{name}.json").write_text(json.dumps(manifest))
        (archive.base / f"{name}.tar.age").write_bytes(b"")
    segments = [f"{1:08X}{0:08X}{number:08X}" for number in range(0x08, 0x24)]
    for name in [*segments, "00000002.history"]:
        (archive.wal / f"{name}.age").write_bytes(b"")

    backup.prune(now)

    assert [found.manifest.stem for found in archive.backups()] == ["31 days", "29 days", "1 day"]
    assert [
        replaced.path.name < "replaced-" + (now - timedelta(days=30)).strftime(backup.TIME_FORMAT)
        for replaced in layout.replaced()
    ] == [False]
    kept = {path.name.removesuffix(".age") for path in archive.wal.iterdir()}
    assert kept == {
        "00000002.history",
        *(segment for segment in segments if segment >= "000000010000000000000010"),
    }

    backup.prune(now + timedelta(days=100))  # every backup expired: the newest is kept all the same
    assert [found.manifest.stem for found in archive.backups()] == ["1 day"]


def test_the_outbox_is_sealed_into_the_archive_whole_segments_only(tmp_path, monkeypatch):
    layout = backup.Layout(tmp_path / "backups", tmp_path / "identity.txt")
    monkeypatch.setattr(backup, "layout", lambda: layout)
    archive = layout.archive
    backup.prepare(None)
    segment = b"\x01WAL" * 1000
    (layout.outbox / "000000010000000000000001").write_bytes(segment)
    (layout.outbox / "000000010000000000000002.copying").write_bytes(b"being copied")
    (layout.outbox / "000000010000000000000003").write_bytes(b"archived already")
    (archive.wal / "000000010000000000000003.age").write_bytes(b"the first copy")
    # PostgreSQL's own name for the last segment of a timeline a restore left
    (layout.outbox / "000000010000000000000004.partial").write_bytes(b"end of a history")

    assert backup.seal() == 2

    assert sorted(path.name for path in layout.outbox.iterdir()) == ["000000010000000000000002.copying"]
    assert (archive.wal / "000000010000000000000003.age").read_bytes() == b"the first copy"
    sealed = (archive.wal / "000000010000000000000001.age").read_bytes()
    assert sealed.startswith(b"age-encryption.org/v1") and segment not in sealed
    identity = keys.read_identity(layout.identity)
    assert pyrage.decrypt(sealed, [identity]) == segment


def test_a_seal_that_fails_leaves_no_partial_file_and_the_segment_to_seal_again(tmp_path, monkeypatch):
    layout = backup.Layout(tmp_path / "backups", tmp_path / "identity.txt")
    monkeypatch.setattr(backup, "layout", lambda: layout)
    backup.prepare(None)
    (layout.outbox / "000000010000000000000001").write_bytes(b"WAL")

    def disk_full(*args: object) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(backup.pyrage, "encrypt_io", disk_full)
        with pytest.raises(OSError):
            backup.seal()

    assert list(layout.archive.wal.iterdir()) == []
    assert backup.seal() == 1
    assert [path.name for path in layout.archive.wal.iterdir()] == ["000000010000000000000001.age"]


def test_two_seals_at_once_archive_a_segment_that_decrypts(tmp_path, monkeypatch):
    """The minute's seal and a full backup's end, in two threads of one process."""
    layout = backup.Layout(tmp_path / "backups", tmp_path / "identity.txt")
    monkeypatch.setattr(backup, "layout", lambda: layout)
    backup.prepare(None)
    segment = os.urandom(16 * 1024 * 1024)  # as large as a WAL segment: the seals overlap
    (layout.outbox / "000000010000000000000001").write_bytes(segment)

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        sealed = [future.result() for future in [pool.submit(backup.seal) for _ in range(2)]]

    assert sorted(sealed) == [0, 1]
    archived = (layout.archive.wal / "000000010000000000000001.age").read_bytes()
    assert pyrage.decrypt(archived, [keys.read_identity(layout.identity)]) == segment
    assert sorted(path.name for path in layout.archive.wal.iterdir()) == ["000000010000000000000001.age"]


def test_a_configured_key_is_kept_with_the_backups_for_the_commands_run_without_it(tmp_path, monkeypatch):
    layout = backup.Layout(tmp_path / "backups", tmp_path / "identity.txt")
    monkeypatch.setattr(backup, "layout", lambda: layout)
    generated = backup.recipient()
    configured = pyrage.x25519.Identity.generate().to_public()
    monkeypatch.setattr(
        backup, "get_settings", lambda: Settings(SUPPORTDESK_BACKUP_RECIPIENT=str(configured))
    )

    assert str(backup.recipient()) == str(configured) != str(generated)

    monkeypatch.setattr(backup, "get_settings", lambda: Settings())
    assert str(backup.recipient()) == str(configured)


class _Interrupted:
    """pg_basebackup whose output a Ctrl-C (or SIGTERM's exit) interrupts while pyrage reads it."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        self.stdout, self.returncode = self, None

    def read(self, size: int = -1) -> bytes:
        raise SystemExit(143)

    def kill(self) -> None:
        self.returncode = -9

    def wait(self) -> int:
        return self.returncode


def test_a_stop_while_a_backup_streams_is_raised_as_itself_and_a_restore_done_before_it_stays(
    tmp_path, monkeypatch
):
    """pyrage told it as an EncryptError: a traceback, and a restore that had worked said nothing of it."""
    monkeypatch.setattr(backup.subprocess, "Popen", _Interrupted)
    monkeypatch.setattr(backup, "recipient", lambda: pyrage.x25519.Identity.generate().to_public())
    with pytest.raises(SystemExit):
        backup._base_backup("postgresql://nowhere", tmp_path / "backup.tar.age")

    def stopped(now: object) -> None:
        raise SystemExit(143)

    monkeypatch.setattr(restore.embedded, "start", lambda data_dir: None)
    monkeypatch.setattr(restore, "take", stopped)
    assert restore._first_backup() == (None, "stopped before it finished")


def test_putting_back_goes_on_from_where_a_killed_one_stopped(tmp_path, monkeypatch):
    monkeypatch.setattr(restore, "layout", lambda: backup.Layout(tmp_path / "backups", tmp_path / "identity"))
    data = tmp_path / "data"
    data.mkdir()
    (data / "PG_VERSION").write_text("16\n")
    # Killed after moving the original back, before noting it: the note still names where it was.
    restore._MovedAside(data, replaced=tmp_path / "data.replaced-1", made=False).write()

    restore._MovedAside.read(data).put_back()

    assert (data / "PG_VERSION").read_text() == "16\n"
    assert not embedded.interrupted_restore_note(data).exists()


def test_no_full_backup_is_taken_before_the_server_archives_its_wal(run, serve, tmp_path):
    ok(run("migrate", backups=False))
    log = serve("worker", backups=False)
    wait_until(lambda: "Starting worker" in log.read_text(), "the worker not started")

    refused = run("backup")  # backups switched on while the server is in use: archived from its restart

    assert refused.returncode == 1 and "does not archive its WAL until it restarts" in refused.stderr
    base = tmp_path / "data-backups" / "base"
    assert list(base.iterdir()) == []
    serve.stop()
    serve("serve")  # alone, it restarts the server, which then archives
    wait_until(lambda: list(base.glob("*.json")), "no full backup")


def test_only_a_backup_of_the_servers_database_on_its_timeline_makes_its_history_restorable(tmp_path):
    archive = backup.Archive(tmp_path)
    archive.base.mkdir()

    def finished(name: str, timeline: int, system_identifier: str | None) -> None:
        manifest = {
            "finished_at": datetime.now(UTC).isoformat(),
            "start_wal": f"{timeline:08X}{0:08X}{3:08X}",
        }
        if system_identifier:
            manifest["system_identifier"] = system_identifier
        (archive.base / f"{name}.json").write_text(json.dumps(manifest))
        (archive.base / f"{name}.tar.age").write_bytes(b"")

    restored = backup.History("7321", 2)  # a restore of 7321 started timeline 2
    finished("before the restore", 1, "7321")
    finished("another database", 2, "9999")
    finished("before manifests said", 2, None)
    (archive.base / ".unfinished.tar.age.partial").write_bytes(b"")
    assert not archive.has_backup_of(restored)

    finished("of the restored history", 2, "7321")
    assert archive.has_backup_of(restored)


def test_a_copy_restored_from_a_running_installs_archive_archives_into_its_own(run, serve, tmp_path):
    """Restoring another install (here: a copy of this one, from its archive, while it runs): the replay
    archived its new timeline into the original's outbox, which sealed it into its archive; the copy
    would not start (the backup's socket lock named the original's live server); and the original's
    own restores then failed ("requested timeline 2 is not a child of this server's history")."""

    def probe(*args: str) -> str:
        return ok(run(*args, module="tests.lifecycle.probe"))

    original = tmp_path / "data-backups"
    ok(run("migrate"))
    probe("write", "in the", "original")
    serve("serve", "--no-worker")
    ok(run("backup"))  # of the running server: its socket lock is in the backup
    copy = {
        "SUPPORTDESK_DATA_DIR": str(tmp_path / "copy"),
        "SUPPORTDESK_BACKUP_DIR": str(tmp_path / "copy-backups"),
    }
    key = str(tmp_path / "data-backup-identity.txt")

    restored = ok(run("restore", "--from", str(original), "--identity", key, env=copy))

    assert "a full backup of what it restored" in restored  # the copy's server started
    assert ok(run("read", module="tests.lifecycle.probe", env=copy)) == "in the original"
    assert [
        path.name for path in (original / "outbox").iterdir() if not path.name.startswith("00000001")
    ] == []
    assert [path.name for path in (original / "wal").iterdir() if not path.name.startswith("00000001")] == []
    assert (tmp_path / "copy-backups" / "wal" / "00000002.history.age").exists()
    serve.stop()

    # A history of another server in the archive (as the copy's replay left it) is not followed.
    foreign = b"1\t0/100\tno recovery target specified\n"
    recipient = keys.read_identity(Path(key)).to_public()
    (original / "wal" / "00000002.history.age").write_bytes(pyrage.encrypt(foreign, [recipient]))
    ok(run("restore"))
    assert probe("read") == "in the original"


def test_a_command_run_with_other_backup_settings_leaves_the_running_servers_archiving_alone(
    run, serve, tmp_path
):
    """A one-off command joining the server with another SUPPORTDESK_BACKUP_DIR (or none) re-pointed its
    archive_command at an outbox nothing sealed: a silent gap in the archive. It refuses instead."""
    ok(run("migrate"))
    log = serve("serve", "--no-worker")
    wait_until(lambda: "Uvicorn running" in log.read_text(), "the server not started")
    archiving = _live_setting(tmp_path / "data", "archive_command")
    assert f"{tmp_path}/data-backups/outbox" in archiving

    elsewhere = run("migrate", env={"SUPPORTDESK_BACKUP_DIR": str(tmp_path / "elsewhere")})
    without = run("migrate", backups=False)

    for refused in (elsewhere, without):
        assert refused.returncode == 1
        (line,) = refused.stderr.strip().splitlines()
        assert line.startswith("error: ") and f"archives its WAL to {tmp_path}/data-backups/outbox" in line
    assert _live_setting(tmp_path / "data", "archive_command") == archiving
    assert not (tmp_path / "elsewhere").exists()
    ok(run("migrate"))  # the same settings join


def _live_setting(data_dir: Path, name: str) -> str:
    """A setting of the server running in `data_dir`, asked without starting (or joining) it."""
    socket_dir = (data_dir / "postmaster.pid").read_text().splitlines()[4]
    with psycopg.connect(f"postgresql://postgres@/postgres?host={socket_dir}") as connection:
        return connection.execute("SELECT current_setting(%s)", (name,)).fetchone()[0]


def test_a_backup_directory_that_cannot_be_made_is_one_line(run, tmp_path):
    """`supportdesk backup` made it as it started the server, outside its error handling: a traceback."""
    ok(run("migrate"))
    (tmp_path / "a-file").write_text("")

    refused = run("backup", env={"SUPPORTDESK_BACKUP_DIR": str(tmp_path / "a-file" / "backups")})

    assert refused.returncode == 1
    (line,) = refused.stderr.strip().splitlines()
    assert line.startswith("error: ") and "a-file/backups" in line


def test_sigterm_stops_a_backup_as_ctrl_c_does_and_the_server_it_started_with_it(run, tmp_path):
    """Killed by the signal's default, `supportdesk backup` left the embedded PostgreSQL running and its
    partial backup."""
    ok(run("migrate"))
    data_dir = tmp_path / "data"
    backing_up = run("backup", background=True)
    streaming = tmp_path / "data-backups" / "base"
    wait_until(lambda: list(streaming.glob(".*.partial")) or backing_up.poll() is not None, "a backup")
    backing_up.send_signal(signal.SIGTERM)
    _, errors = backing_up.communicate(timeout=120)

    assert backing_up.returncode in (0, 130) and "Traceback" not in errors, errors  # 130: as Ctrl-C
    assert not (data_dir / "postmaster.pid").exists()  # the server stopped with the command
    assert not list((tmp_path / "data-backups" / "base").glob(".*.partial"))
