"""The `pgserver` package, which carries PostgreSQL's programs: the embedded server's (embedded.py) and
the backups' (lifecycle/backup.py)."""

import os
from pathlib import Path
from types import ModuleType


def imported_for(data_dir: Path) -> ModuleType:
    """The pgserver package, imported late (it is only needed without DATABASE_URL) and once its runtime
    directory is set: it keeps its bookkeeping there, read when it is imported. Each data directory has
    a private one."""
    runtime_dir = data_dir.parent / f".{data_dir.name}-runtime"
    runtime_dir.mkdir(mode=0o700, exist_ok=True)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime_dir))
    import pgserver
    import pgserver.utils

    return pgserver
