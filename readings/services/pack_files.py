"""Pack files (PDF, EPUB): rendered by a worker into the shared cache, never inside a web request.

A request computes the pack's version (its ETag) and looks the file up under
that version. If it is missing, the first request claims the render with an
atomic `cache.add` and queues `readings.render_pack` once its transaction
commits; it and every request after it are told to come back (202 with
Retry-After) until the worker has stored the file. So two requests for the
same version, on any web process or machine, render once.

The cache must be shared by the web processes and the workers: Redis
(REDIS_URL) when there are several machines, or the embedded default's file
cache on one. Files are keyed by format, session and version; the version is
per person (it covers what they may see), so nobody is served anyone else's
file. Each person keeps only the file of their latest version.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import Http404

from sessions_app.models import User
from sessions_app.selectors import access_session, membership_for

from ..pack.builder import PackScope, build_pack, pack_scope, pack_version
from ..pack.renderers import PACK_RENDERERS

logger = logging.getLogger("readings.pack_files")

RENDERERS = {renderer.format: renderer for renderer in PACK_RENDERERS if renderer.rendered_by_worker}
READY, PREPARING, FAILED = "ready", "preparing", "failed"


@dataclass(frozen=True)
class PackFile:
    """A pack file as a request finds it: `body` when ready, else the state of its render."""

    state: str  # READY, PREPARING or FAILED
    body: bytes | None = None


def file_key(*, fmt: str, session_id: int, version: str) -> str:
    return f"pack:{fmt}:{session_id}:{version}"


def _claim_key(key: str) -> str:
    return f"{key}:claim"


def _latest_key(*, fmt: str, session_id: int, user_id: int) -> str:
    return f"pack-latest:{fmt}:{session_id}:{user_id}"


def pack_file_request(*, scope: PackScope, version: str, fmt: str) -> PackFile:
    """The `fmt` file of the scope's pack at `version`, or the state of its render, which this call starts if needed.

    Never renders. At most one render is queued per version while a claim
    lasts (PACK_RENDER_CLAIM_SECONDS), however many requests ask at once; it
    is queued only after the caller's transaction commits. A render that
    failed is reported (FAILED) for PACK_RENDER_RETRY_SECONDS, then tried again.
    """
    key = file_key(fmt=fmt, session_id=scope.session.pk, version=version)
    body = cache.get(key)
    if body is not None:
        return PackFile(READY, body)
    claim = _claim_key(key)
    if cache.add(claim, PREPARING, timeout=settings.PACK_RENDER_CLAIM_SECONDS):
        arguments = (scope.session.pk, scope.user.pk, fmt, version)
        transaction.on_commit(lambda: _queue_render(claim, arguments))
        return PackFile(PREPARING)
    return PackFile(FAILED if cache.get(claim) == FAILED else PREPARING)


def _queue_render(claim: str, arguments: tuple) -> None:
    from ..tasks import render_pack  # tasks import this module

    try:
        render_pack.apply_async(arguments, queue=settings.PACK_RENDER_QUEUE)
    except Exception:
        # The broker is away: give the claim back so the next request queues the render again.
        cache.delete(claim)
        logger.exception("pack files: could not queue the render of %s", arguments)


def pack_file_render(*, session_id: int, user_id: int, fmt: str, version: str) -> str | None:
    """Render the person's `fmt` pack of the session into the cache; returns the version stored, or None.

    Called by the worker. Idempotent: a file already in the cache is not made
    again. It renders the pack as it is now: if the content changed since
    `version` was asked for, the current version is stored (the next request
    asks for that one). Nothing is stored for someone who may no longer see
    the session. The claim on `version` is released, or marked FAILED for
    PACK_RENDER_RETRY_SECONDS if rendering raised (the error is re-raised).
    """
    claim = _claim_key(file_key(fmt=fmt, session_id=session_id, version=version))
    try:
        user = User.objects.filter(pk=user_id, is_active=True).first()
        try:
            session = access_session(user, session_id) if user else None
        except Http404:
            session = None
        membership = membership_for(user, session.group_id) if session else None
        if membership is None:
            logger.info("pack files: user %s may no longer see session %s; nothing rendered", user_id, session_id)
            cache.delete(claim)
            return None
        scope = pack_scope(user=user, session=session, membership=membership)
        current = pack_version(scope)
        key = file_key(fmt=fmt, session_id=session_id, version=current)
        if not cache.has_key(key):  # only asks whether it is there; the file stays in the cache
            started = time.perf_counter()
            body = RENDERERS[fmt]().build(build_pack(scope, version=current))
            cache.set(key, body, timeout=settings.PACK_CACHE_SECONDS)
            logger.info(
                "pack files: rendered the %s pack of session %s for user %s (version %s, %d bytes, %.2f s)",
                fmt,
                session_id,
                user_id,
                current,
                len(body),
                time.perf_counter() - started,
            )
        _keep_only_latest(fmt=fmt, session_id=session_id, user_id=user_id, key=key)
    except Exception:
        cache.set(claim, FAILED, timeout=settings.PACK_RENDER_RETRY_SECONDS)
        raise
    cache.delete(claim)
    return current


def _keep_only_latest(*, fmt: str, session_id: int, user_id: int, key: str) -> None:
    """Remember `key` as the person's latest `fmt` file of the session and drop the one before it."""
    latest = _latest_key(fmt=fmt, session_id=session_id, user_id=user_id)
    previous = cache.get(latest)
    cache.set(latest, key, timeout=settings.PACK_CACHE_SECONDS)
    if previous and previous != key:
        cache.delete(previous)  # an older version of this person's file is never served again


def pack_render_cached(*, scope: PackScope, version: str, fmt: str, render: Callable[[], bytes]) -> bytes:
    """A format rendered in the request (JSON, Markdown): made once per version, then served from the cache.

    `render()` makes it on a miss. Like the worker's files, only each person's
    latest version is kept, so the cache holds one copy per person and format.
    """
    key = file_key(fmt=fmt, session_id=scope.session.pk, version=version)
    body = cache.get(key)
    if body is None:
        body = render()
        cache.set(key, body, timeout=settings.PACK_CACHE_SECONDS)
        _keep_only_latest(fmt=fmt, session_id=scope.session.pk, user_id=scope.user.pk, key=key)
    return body
