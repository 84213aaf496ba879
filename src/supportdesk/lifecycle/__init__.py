"""The data lifecycle (PRODUCT.md): the archive of deleted records, retention and database maintenance,
each a scheduled job and an operator command."""
