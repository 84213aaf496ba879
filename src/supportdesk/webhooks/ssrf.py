"""Where a webhook may point: never at link-local addresses (cloud metadata lives there), and not at
private or loopback ones unless the operator allows it (SUPPORTDESK_WEBHOOK_ALLOW_PRIVATE=1)."""

import ipaddress
import socket
from urllib.parse import urlsplit

from anyio import to_thread

from supportdesk.config import get_settings
from supportdesk.errors import DomainError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _refusal(address: IPAddress) -> str | None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if address.is_link_local:
        return "link-local addresses are never allowed"
    if get_settings().webhook_allow_private:
        return None
    if address.is_private or address.is_loopback or address.is_reserved or address.is_unspecified:
        return "private and loopback addresses are not allowed"
    if address.is_multicast:
        return "multicast addresses are not allowed"
    return None


async def resolve(host: str) -> list[IPAddress]:
    """The addresses a host name stands for; empty when it does not resolve (yet)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = await to_thread.run_sync(lambda: socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP))
    except (socket.gaierror, UnicodeError):
        return []
    return [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]


async def ensure_allowed(url: str) -> None:
    """Refuse a webhook URL that is malformed or points where the server must not send requests.

    Checked when a webhook is registered and again before each delivery (DNS can change)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DomainError("validation_error", "url: must be an http or https URL with a host")
    for address in await resolve(parts.hostname):
        reason = _refusal(address)
        if reason:
            raise DomainError("webhook_url_not_allowed", f"url: {reason} ({address})")
