"""The self-check finds a drifted current_ticket_count, repairs it, and says so loudly."""

import logging
import uuid

from supportdesk.db import system_session
from supportdesk.sla.selfcheck import repair_ticket_counts
from tests.factories import add_user, open_ticket, sign_up
from tests.tickets.helpers import agent_counts, assert_counts_are_true, execute_as_system


async def test_a_drifted_ticket_count_is_repaired_and_logged_as_an_error(client, caplog):
    org = await sign_up(client)
    agent, _ = await add_user(client, org)
    for _ in range(3):
        await open_ticket(client, org)
    assert (await agent_counts(client, org))[agent["id"]] == 3
    await execute_as_system(
        "UPDATE users SET current_ticket_count = 7 WHERE id = :id", id=uuid.UUID(agent["id"])
    )

    with caplog.at_level(logging.ERROR, logger="supportdesk.sla.selfcheck"):
        async with system_session() as session:
            repaired = await repair_ticket_counts(session)

    mine = [drift for drift in repaired if drift.user_id == uuid.UUID(agent["id"])]
    assert [(drift.recorded, drift.actual) for drift in mine] == [(7, 3)]
    await assert_counts_are_true(client, org)
    logged = [record for record in caplog.records if agent["id"] in record.getMessage()]
    assert len(logged) == 1 and logged[0].levelno == logging.ERROR


async def test_the_self_check_finds_nothing_when_the_counts_are_true(client, caplog):
    org = await sign_up(client)
    agent, _ = await add_user(client, org)
    await open_ticket(client, org)
    with caplog.at_level(logging.ERROR, logger="supportdesk.sla.selfcheck"):
        async with system_session() as session:
            repaired = await repair_ticket_counts(session)
    assert all(drift.user_id != uuid.UUID(agent["id"]) for drift in repaired)
    assert not [record for record in caplog.records if agent["id"] in record.getMessage()]
