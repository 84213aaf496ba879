"""What the schema must hold beyond the seed's: an index for each lookup a delete makes."""

from sqlalchemy import text

from supportdesk import db

# Rows deleted only whole organizations at a time (an evaluation's scratch one), or never (a user is
# deactivated, not deleted): a lookup through the whole table then is no path anyone waits on.
RARELY_DELETED = {"organizations", "users"}


async def test_each_row_a_delete_looks_up_by_a_foreign_key_has_an_index(client):
    """Deleting a message looked through every organization's automatic answers, twice, and deleting a
    customer through every message: 1.4 s for a customer of 10 tickets beside 450,000 messages."""
    async with db.system_session() as session:
        unindexed = (
            await session.execute(
                text(
                    """
                    SELECT c.conrelid::regclass::text AS referencing, a.attname AS column_name,
                           c.confrelid::regclass::text AS referenced
                    FROM pg_constraint c
                    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
                    WHERE c.contype = 'f' AND cardinality(c.conkey) = 1
                      AND NOT EXISTS (SELECT 1 FROM pg_index i
                                      WHERE i.indrelid = c.conrelid AND i.indkey[0] = c.conkey[1])
                    """
                )
            )
        ).all()
    missing = [
        f"{row.referencing}.{row.column_name}" for row in unindexed if row.referenced not in RARELY_DELETED
    ]
    assert missing == []
