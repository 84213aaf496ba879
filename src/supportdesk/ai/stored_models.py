"""Where each organization's trained models live: one row per organization in a model table (the latest
model only), and a small per-process cache of the loaded ones, by version (unpickling costs more than a
query). Triage (`triage_models`) and auto-answers (`answer_models`) each keep one `ModelStore`.

Trainings in a process run one at a time (`training_turn`): two at once would only fight over the CPU,
and a training that waited finds the model up to date. A job waits for its turn a while at most
(`patience`), then gives its worker slot back and comes again: an organization's first model can train
for minutes (20,000 past tickets), and the jobs of other organizations waiting their turn (a triage
without a model, a retraining) took every slot of the queue meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import uuid
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk import db
from supportdesk.ai.classifier import IncompatibleModel

_training: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


class TrainingBusy(Exception):
    """Another training of this process held the lock longer than the caller's patience."""


@contextlib.asynccontextmanager
async def training_turn(patience: float | None = None) -> AsyncIterator[None]:
    """The process's training lock (one per event loop), held for the block; with `patience` (seconds),
    TrainingBusy when another training keeps it longer than that."""
    loop = asyncio.get_running_loop()
    lock = _training.get(loop)
    if lock is None:
        lock = _training[loop] = asyncio.Lock()
    try:
        await asyncio.wait_for(lock.acquire(), patience)
    except TimeoutError:
        raise TrainingBusy from None
    try:
        yield
    finally:
        lock.release()


class ModelStore:
    """The latest model of each organization in `table` (organization_id, trained_at, version, model,
    fingerprint, and JSONB columns of the caller's), loaded with `loads` (which raises
    classifier.IncompatibleModel for bytes it cannot read: the model is then retrained)."""

    CACHE_SIZE = 32

    def __init__(self, table: str, loads: Callable[[bytes], Any]) -> None:
        self.table = table
        self.loads = loads
        self._cache: dict[uuid.UUID, tuple[int, Any]] = {}
        self._lock = threading.Lock()

    async def stored(self, session: AsyncSession, organization_id: uuid.UUID):
        """The stored model's (fingerprint, version), or None."""
        return (
            await session.execute(
                text(f"SELECT fingerprint, version FROM {self.table} WHERE organization_id = :org"),
                {"org": organization_id},
            )
        ).one_or_none()

    async def is_current(self, session: AsyncSession, organization_id: uuid.UUID, fingerprint: str) -> bool:
        """Whether the stored model was trained from what `fingerprint` summarizes."""
        stored = await self.stored(session, organization_id)
        return stored is not None and stored.fingerprint == fingerprint

    async def save(
        self,
        session: AsyncSession,
        organization_id: uuid.UUID,
        model: Any,
        data: bytes,
        fingerprint: str,
        **documents: Any,
    ) -> int | None:
        """Store `data` (the serialized `model`) as the organization's latest; `documents` are the
        table's JSONB columns. Returns the new version, or None when the organization was deleted while
        the model trained (an evaluation's scratch organization, one purged by retention): nothing to keep."""
        columns = ", ".join(documents)
        values = ", ".join(f"CAST(:{name} AS jsonb)" for name in documents)
        updates = "".join(f", {name} = excluded.{name}" for name in documents)
        version = await session.scalar(
            text(
                f"""
                INSERT INTO {self.table} AS m
                    (organization_id, trained_at, version, model, fingerprint, {columns})
                SELECT :org, :now, 1, :model, :fingerprint, {values}
                FROM organizations WHERE id = :org
                ON CONFLICT (organization_id) DO UPDATE SET
                    trained_at = excluded.trained_at, version = m.version + 1, model = excluded.model,
                    fingerprint = excluded.fingerprint{updates}
                RETURNING version
                """
            ),
            {
                "org": organization_id,
                "now": datetime.now(UTC),
                "model": data,
                "fingerprint": fingerprint,
                **{name: json.dumps(value, default=float) for name, value in documents.items()},
            },
        )
        if version is None:
            return None
        self.remember(organization_id, int(version), model)
        return int(version)

    async def delete(self, session: AsyncSession, organization_id: uuid.UUID) -> None:
        await session.execute(
            text(f"DELETE FROM {self.table} WHERE organization_id = :org"), {"org": organization_id}
        )

    def remember(self, organization_id: uuid.UUID, version: int, model: Any) -> None:
        with self._lock:
            self._cache.pop(organization_id, None)
            while len(self._cache) >= self.CACHE_SIZE:
                self._cache.pop(next(iter(self._cache)))
            self._cache[organization_id] = (version, model)

    async def load(self, session: AsyncSession, organization_id: uuid.UUID) -> Any | None:
        """The organization's latest model, or None (none stored, or stored in a format we cannot read)."""
        org = {"org": organization_id}
        version = await session.scalar(
            text(f"SELECT version FROM {self.table} WHERE organization_id = :org"), org
        )
        if version is None:
            return None
        cached = self._cache.get(organization_id)
        if cached is not None and cached[0] == version:
            return cached[1]
        data = await session.scalar(text(f"SELECT model FROM {self.table} WHERE organization_id = :org"), org)
        try:
            model = self.loads(bytes(data))
        except IncompatibleModel:
            return None
        self.remember(organization_id, int(version), model)
        return model

    async def trained(self, organization_id: uuid.UUID, train: Callable[..., Awaitable[Any]]) -> Any | None:
        """The organization's model once `train(organization_id, force=...)` has brought it up to date;
        trained again, forced, when the stored one is in a format we cannot read. None when the
        organization has none (nothing to learn from)."""
        for force in (False, True):
            await train(organization_id, force=force)
            async with db.tenant_session(organization_id) as session:
                model = await self.load(session, organization_id)
                if model is not None or await self.stored(session, organization_id) is None:
                    return model
        return None
