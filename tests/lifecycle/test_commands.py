"""The operator's commands, run as an operator runs them: the `supportdesk` program against the database."""

import json
import os
import subprocess
import sys
from pathlib import Path

from supportdesk import db
from tests.factories import add_category, sign_up


def supportdesk(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(sys.executable).parent / "supportdesk"), *args],
        env={**os.environ, "DATABASE_URL": db.database_url()},
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_an_operator_lists_the_archive_and_restores_a_deleted_category(client):
    org = await sign_up(client)
    category = await add_category(client, org, name="Billing")
    await client.delete(f"/categories/{category['id']}", headers=org.headers)

    listing = supportdesk("archive", "list", "--organization-id", org.id)
    assert listing.returncode == 0, listing.stderr
    (line,) = [json.loads(text) for text in listing.stdout.splitlines()]
    assert (line["entity_type"], line["entity_id"], line["name"]) == ("category", category["id"], "Billing")

    restored = supportdesk("archive", "restore", line["id"])
    assert restored.returncode == 0, restored.stderr
    assert restored.stdout.strip() == f"restored category {category['id']}"
    assert (await client.get(f"/categories/{category['id']}", headers=org.headers)).status_code == 200

    again = supportdesk("archive", "restore", line["id"])
    assert again.returncode == 1
    assert "restored already" in again.stderr


def test_retention_and_maintenance_run_by_hand_and_say_what_they_did():
    retention = supportdesk("retention")
    assert retention.returncode == 0, retention.stderr
    assert set(json.loads(retention.stdout)) == {
        "tickets",
        "customers",
        "audit_logs",
        "webhook_deliveries",
        "archived_records",
        "organizations",
    }

    analyze = supportdesk("maintenance", "analyze")
    assert analyze.returncode == 0, analyze.stderr
    assert analyze.stdout.startswith("analyze: ")
