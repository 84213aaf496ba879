"""Background jobs of the webhooks domain: delivering what `events.emit_event` recorded.

A delivery is sent at least once: a worker killed after the POST but before recording it sends it
again when the job is retried. Receivers tell repeats apart by the X-Supportdesk-Delivery header.
"""

import asyncio
import hashlib
import hmac
import json
import logging
import uuid
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import httpx
from procrastinate import RetryStrategy
from sqlalchemy import select, update

from supportdesk import db
from supportdesk.errors import DomainError
from supportdesk.jobs import DELIVERY_QUEUE, app
from supportdesk.webhooks.models import Webhook, WebhookDelivery
from supportdesk.webhooks.ssrf import IPAddress, allowed_addresses

__all__ = ["app", "deliver_webhook", "sign"]

log = logging.getLogger(__name__)

# A failed delivery is tried again after 3, 9, 27 … seconds: 11 attempts over about a day, then the
# job fails for good (the delivery keeps its last status_code and last_error).
DELIVERY_RETRY = RetryStrategy(max_attempts=10, exponential_wait=3)
TIMEOUT = httpx.Timeout(10.0)  # to connect, and between two reads or writes
# The whole attempt: a receiver that answers a byte every few seconds would hold a slot of the
# deliveries queue, which every organization shares, for as long as it likes.
ATTEMPT_SECONDS = 15.0
ERROR_MAX = 1_000


class DeliveryFailed(Exception):
    """The receiver did not answer 2xx, or could not be reached: procrastinate retries the job."""


class QuietDeliveryFailures(logging.Filter):
    """A receiver that fails is no bug of ours, and its delivery records why: the worker's line for such a
    job says the error, without a traceback (20 unreachable webhooks wrote 1,900 tracebacks in 10 minutes)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], DeliveryFailed):
            record.msg, record.args = f"{record.getMessage()}: {record.exc_info[1]}", ()
            record.exc_info, record.exc_text = None, None
        return True


logging.getLogger("procrastinate.worker").addFilter(QuietDeliveryFailures())


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def _record(
    delivery_id: uuid.UUID, *, status_code: int | None, error: str | None, delivered: bool
) -> None:
    async with db.system_session() as session:  # the job is not any one organization's request
        await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id)
            .values(
                attempts=WebhookDelivery.attempts + 1,
                status_code=status_code,
                last_error=error[:ERROR_MAX] if error else None,
                **({"delivered_at": datetime.now(UTC)} if delivered else {}),
            )
        )


@app.task(name="deliver_webhook", queue=DELIVERY_QUEUE, retry=DELIVERY_RETRY)
async def deliver_webhook(delivery_id: str) -> None:
    delivery_uuid = uuid.UUID(delivery_id)
    row = await _delivery_and_webhook(delivery_uuid)
    # Gone with its webhook, or sent already (this is a repeat of the job): nothing to do.
    if row is None or row.delivered_at is not None:
        return

    # Checked again at each attempt: the name may resolve elsewhere since the webhook was registered.
    # A refused URL will stay refused; it is recorded, not retried.
    try:
        addresses = await allowed_addresses(row.url)
    except DomainError as refusal:
        log.warning("webhook delivery %s refused: %s", delivery_id, refusal.detail)
        await _record(delivery_uuid, status_code=None, error=f"refused: {refusal.detail}", delivered=False)
        return

    body = json.dumps(row.payload, separators=(",", ":"), ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "supportdesk-webhooks",
        "X-Supportdesk-Event": row.event,
        "X-Supportdesk-Delivery": delivery_id,
        "X-Supportdesk-Signature": sign(row.secret, body),
    }
    # No transaction is open here: a slow receiver holds no connection and no lock.
    try:
        async with asyncio.timeout(ATTEMPT_SECONDS):
            status_code, error = await _post(row.url, addresses, body, headers)
    except TimeoutError:
        status_code, error = None, f"no answer within {ATTEMPT_SECONDS:g} s"

    delivered = status_code is not None and 200 <= status_code < 300
    if status_code is not None and not delivered:
        error = f"HTTP {status_code}"
    await _record(delivery_uuid, status_code=status_code, error=error, delivered=delivered)
    if not delivered:
        raise DeliveryFailed(f"delivery {delivery_id}: {error}")


async def _delivery_and_webhook(delivery_id: uuid.UUID):
    """The delivery with its webhook's URL and secret."""
    async with db.system_session() as session:  # deliveries of every organization share one queue
        return (
            await session.execute(
                select(
                    WebhookDelivery.event,
                    WebhookDelivery.payload,
                    WebhookDelivery.delivered_at,
                    Webhook.url,
                    Webhook.secret,
                )
                .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
                .where(WebhookDelivery.id == delivery_id)
            )
        ).one_or_none()


def _pinned(url: str, address: IPAddress) -> tuple[str, dict[str, str], dict[str, str]]:
    """`url` with its host replaced by an address already checked, so that nothing resolves the name
    again between the check and the connection; the Host header and TLS (SNI and certificate) keep
    the name."""
    parts = urlsplit(url)
    hostname = parts.hostname or ""
    userinfo = parts.netloc.rpartition("@")[0]
    port = f":{parts.port}" if parts.port else ""
    literal = f"[{address}]" if address.version == 6 else str(address)
    netloc = (f"{userinfo}@" if userinfo else "") + literal + port
    host_header = (f"[{hostname}]" if ":" in hostname else hostname) + port
    extensions = {"sni_hostname": hostname} if parts.scheme == "https" else {}
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, "")), {"Host": host_header}, extensions


async def _post(
    url: str, addresses: list[IPAddress], body: bytes, headers: dict[str, str]
) -> tuple[int | None, str | None]:
    """POST to the first of `addresses` that accepts a connection: (status code, error)."""
    if not addresses:
        return None, "DNS: the host name does not resolve"
    error: str | None = None
    async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False, trust_env=False) as client:
        for address in addresses:
            pinned_url, host, extensions = _pinned(url, address)
            try:
                request = client.build_request(
                    "POST", pinned_url, content=body, headers={**headers, **host}, extensions=extensions
                )
                response = await client.send(request, stream=True)
            except httpx.ConnectError as failure:
                error = _describe(failure)
                continue  # the next address may answer
            except httpx.HTTPError as failure:
                return None, _describe(failure)
            # The answer's body is never read: only its status matters, however big it is.
            await response.aclose()
            return response.status_code, None
    return None, error


def _describe(failure: Exception) -> str:
    return f"{type(failure).__name__}: {failure}" if str(failure) else type(failure).__name__
