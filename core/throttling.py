"""Rate limits for the ways in (token, login pages, admin login, password reset, sign-up).

One limiter for the API and the pages: DRF's cache-backed `SimpleRateThrottle`,
counted per client address (`addresses.client_address`) or per account (a
hash of the normalised email or username, so the cache holds no addresses of
people). Rates are `REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`, read when a
limit is checked, so a changed setting applies at once.
"""

import hashlib
import math

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from .addresses import client_address


class _Limit(SimpleRateThrottle):
    """One counter: `scope` names the rate, `ident` says whose attempts are counted."""

    def __init__(self, scope: str, ident: str) -> None:
        self.scope = scope
        self.ident = ident
        super().__init__()

    def get_rate(self) -> str:
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.ident}


def per_address(scope: str, request) -> _Limit:
    """A limit on what one client address may try."""
    return _Limit(scope, client_address(request))


def per_account(scope: str, account: str) -> _Limit:
    """A limit on tries against one account, named by its email or username (case-insensitive)."""
    digest = hashlib.sha256(account.strip().casefold().encode()).hexdigest()[:32]
    return _Limit(scope, digest)


def refused_for(request, limits: list[_Limit]) -> int | None:
    """Count this try against every limit; None when all allow it, else the seconds until the longest clears.

    Every limit counts the try, even past another's refusal, as DRF's own
    views do, so a client that keeps trying keeps itself refused.
    """
    waits = [limit.wait() for limit in limits if not limit.allow_request(request, None)]
    if not waits:
        return None
    return max(1, math.ceil(max(wait or 1 for wait in waits)))
