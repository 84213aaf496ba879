"""Where a webhook may point: never at link-local addresses (cloud metadata lives there), and not at
private or loopback ones unless the operator allows it (SUPPORTDESK_WEBHOOK_ALLOW_PRIVATE=1)."""

import ipaddress
import socket
from urllib.parse import urlsplit

from anyio import to_thread

from supportdesk.config import get_settings
from supportdesk.errors import DomainError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


# IPv6 addresses that carry an IPv4 one in their last 32 bits, unwrapped before they are judged: NAT64
# (RFC 6052, and RFC 8215's local-use prefix), IPv4-translated (RFC 2765) and the deprecated
# IPv4-compatible form (::127.0.0.1), which Python counts as global.
_CARRY_IPV4 = tuple(
    ipaddress.IPv6Network(network)
    for network in ("64:ff9b::/96", "64:ff9b:1::/48", "::ffff:0:0:0/96", "::/96")
)


def _unwrapped(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return address.ipv4_mapped
        if address.sixtofour:
            return address.sixtofour
        if any(address in network for network in _CARRY_IPV4):
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def _refusal(address: IPAddress) -> str | None:
    address = _unwrapped(address)
    if address.is_link_local:
        return "link-local addresses are never allowed"
    if get_settings().webhook_allow_private:
        return None
    if address.is_multicast:
        return "multicast addresses are not allowed"
    # Not global covers private, loopback, reserved, documentation and shared (CGNAT) ranges: a cloud
    # metadata service may live in the last (100.100.100.200). IPv6 site-local (fec0::/10, deprecated
    # but still routed inside some networks) counts as global to Python.
    if not address.is_global or getattr(address, "is_site_local", False):
        return "private and loopback addresses are not allowed"
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


async def allowed_addresses(url: str) -> list[IPAddress]:
    """The addresses `url` may be sent to (empty when its host does not resolve); refuses a URL that is
    malformed or any of whose addresses the server must not send requests to."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DomainError("validation_error", "url: must be an http or https URL with a host")
    addresses = await resolve(parts.hostname)
    for address in addresses:
        reason = _refusal(address)
        if reason:
            raise DomainError("webhook_url_not_allowed", f"url: {reason} ({address})")
    return addresses


async def ensure_allowed(url: str) -> None:
    """Refuse a webhook URL that is malformed or points where the server must not send requests.

    Checked when a webhook is registered and again before each delivery (DNS can change); a delivery
    then connects to the very addresses checked (`allowed_addresses`), so a name that resolves
    elsewhere a moment later (DNS rebinding) gains nothing."""
    await allowed_addresses(url)
