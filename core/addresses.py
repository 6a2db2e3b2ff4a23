"""Which address a request comes from, the one answer every limit uses.

`X-Forwarded-For` is written by whoever sends the request, so it is believed
only as far as our own proxies vouch for it: with `TRUSTED_PROXY_COUNT` = N,
each of the N proxies appended the address it was reached from, so the
client is the Nth entry from the right; anything further left was sent by
the client and is ignored. With N = 0 (the default: gunicorn faces the
clients) the header is ignored and the address is the socket's.

An IPv6 client is counted by its /64 network: one subscriber usually holds a
whole /64, and would otherwise get a fresh limit from each of its 2^64
addresses.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest

IPV6_NETWORK_PREFIX = 64
# A request without a usable address (a unix socket with no proxy count set) shares one bucket with all such.
UNKNOWN_ADDRESS = "0.0.0.0"  # noqa: S104 (an address to count by, not one to bind to)


def client_address(request: HttpRequest) -> str:
    """The client's address (an IPv6 one as its /64 network address), for throttles and lockouts."""
    remote = request.META.get("REMOTE_ADDR", "")
    candidate = remote
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if forwarded:
            # Fewer entries than proxies: the farthest one we have (the request skipped a proxy).
            candidate = forwarded[-min(proxies, len(forwarded))]
    address = _parse(candidate) or _parse(remote)
    if address is None:
        return UNKNOWN_ADDRESS
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, IPV6_NETWORK_PREFIX), strict=False).network_address)
    return str(address)


def _parse(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None
