"""The request's transaction, for writes only.

Django's `ATOMIC_REQUESTS` runs every view in a transaction, reads included:
two round trips to PostgreSQL (`BEGIN`, `COMMIT`) on every GET, most of the
API's traffic, for nothing (a read sees committed rows either way, and the
reads of one request never needed one snapshot). `writes_in_transaction`
gives every view of the site what `ATOMIC_REQUESTS` gave it, but for
the methods that may write (POST, PUT, PATCH, DELETE) only: the view runs in
one transaction, committed when it answers, rolled back when it raises. A
write refused with an answer (a 400 from the API) rolls it back too
(`core.api.errors.exception_handler` marks it, `in_request_transaction`).
GET, HEAD, OPTIONS and TRACE run in autocommit; a read that writes (an API
token's `last_used_at`, say) writes one statement, or opens its own
`transaction.atomic()` in its service.

A view marked `transaction.non_atomic_requests` (the token and login views,
whose refused tries must stay counted) runs outside any transaction, as
before. `config/urls.py` applies it to every URL of the site, and the
setting `ATOMIC_REQUESTS` is off (it would wrap the views again).
"""

import functools

from django.db import DEFAULT_DB_ALIAS, transaction
from django.urls import URLPattern, URLResolver

# RFC 9110's safe methods: a request with one of these asks to read.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

_IN_TRANSACTION = "_studycircle_in_request_transaction"


def writes_in_transaction(view):
    """`view`, run in a transaction when the request's method may write (see above)."""
    if DEFAULT_DB_ALIAS in getattr(view, "_non_atomic_requests", ()) or getattr(view, _WRAPPED, False):
        return view

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method in SAFE_METHODS:
            return view(request, *args, **kwargs)
        with transaction.atomic():
            setattr(request, _IN_TRANSACTION, True)
            try:
                return view(request, *args, **kwargs)
            finally:
                setattr(request, _IN_TRANSACTION, False)

    setattr(wrapped, _WRAPPED, True)
    return wrapped


_WRAPPED = "_studycircle_writes_in_transaction"


def in_request_transaction(request) -> bool:
    """Whether `request` (Django's, or DRF's around it) runs in its own transaction (`writes_in_transaction`)."""
    return bool(getattr(getattr(request, "_request", request), _IN_TRANSACTION, False))


def every_view_writes_in_transaction(patterns: list) -> list:
    """`patterns` (a URLconf's `urlpatterns`), each view in it and in what it includes `writes_in_transaction`."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            every_view_writes_in_transaction(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            pattern.callback = writes_in_transaction(pattern.callback)
    return patterns
