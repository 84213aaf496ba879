"""The data lifecycle (PRODUCT.md): the archive of deleted records, retention and database maintenance,
each a scheduled job and an operator command."""


class BackupError(Exception):
    """A backup or restore that cannot be done, with a reason an operator can act on."""
