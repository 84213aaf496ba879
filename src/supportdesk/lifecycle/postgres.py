"""The embedded PostgreSQL as backups and restores reach it from outside: whether a server runs in a data
directory, its superuser's URI, PostgreSQL's programs, and the system user the server runs as."""

import os
import pwd
import time
from pathlib import Path
from types import ModuleType

from psycopg.conninfo import conninfo_to_dict

from supportdesk import pgserver_package
from supportdesk.config import get_settings
from supportdesk.lifecycle import BackupError


def embedded_server_uri() -> str | None:
    """The superuser's URI of the embedded server, when it is the product's database and runs here."""
    info = postmaster(get_settings().data_dir.resolve())
    if info is None:
        return None
    database_url = get_settings().database_url
    if database_url and conninfo_to_dict(database_url).get("host") != str(info.socket_dir):
        return None  # DATABASE_URL names another server
    return info.get_uri()


def postmaster(data_dir: Path):
    """pgserver's reading of the server running in `data_dir`, if one is."""
    for _ in range(50):
        try:
            info = pgserver().utils.PostmasterInfo.read_from_pgdata(data_dir) if data_dir.exists() else None
            return info if info is not None and info.is_running() else None
        except (AssertionError, ValueError, IndexError):  # postmaster.pid half-written: a server starting
            time.sleep(0.1)
    raise BackupError(f"{data_dir}/postmaster.pid cannot be read")


def program(name: str) -> str:
    """The path of one of PostgreSQL's programs, pgserver's."""
    return str(pgserver()._commands.POSTGRES_BIN_PATH / name)


def pgserver() -> ModuleType:
    return pgserver_package.imported_for(get_settings().data_dir.resolve())


def server_user() -> str | None:
    # pgserver runs PostgreSQL as a user of its own when it is started by root (PostgreSQL refuses root).
    return "pgserver" if os.geteuid() == 0 else None


def chown(path: Path, user: str, *, recursive: bool = False) -> None:
    account = pwd.getpwnam(user)
    for each in [path, *(path.rglob("*") if recursive else [])]:
        os.chown(each, account.pw_uid, account.pw_gid)
