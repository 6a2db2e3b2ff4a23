"""Benchmark: the live reader's poll (`GET sessions/{id}/notes/live/`) against `GET me/`.

Run: `DATABASE_URL=postgres://postgres@127.0.0.1:5432/studycircle .venv/bin/python bench/reader_poll.py`

The large session of `bench/pack.py` (200 passages, 2,000 notes by 40
members, 20 questions). Through the full stack with token authentication,
median of 51 requests each: `GET /api/v1/me/`; the poll answered 304 (its
ETag unchanged), for the organizer and for a plain member; and the poll's
200 (the list of notes one may see). The target: an unchanged poll costs no
more than 1.5× `me/`. Queries per request are counted too.
"""

import importlib.util
import os
import sys
from pathlib import Path

os.environ["CELERY_BROKER_URL"] = "memory://localhost/"

from _django import machine, median_ms, throwaway_database

# This folder holds markdown.py, which would shadow the markdown package DRF imports: leave it off the
# path, and load bench/pack.py (the large session) by its file name.
HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
_spec = importlib.util.spec_from_file_location("bench_pack", HERE / "pack.py")
bench_pack = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_pack)
MEMBERS, NOTES, PASSAGES, build_large_session = (
    bench_pack.MEMBERS,
    bench_pack.NOTES,
    bench_pack.PASSAGES,
    bench_pack.build_large_session,
)

from django.db import connection  # noqa: E402 (after the path is set)
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from sessions_app.enums import Role  # noqa: E402
from sessions_app.models import Membership  # noqa: E402
from sessions_app.services.api_tokens import api_token_create  # noqa: E402


def queries(client: Client, path: str, **headers) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as captured:
        status = client.get(path, **headers).status_code
    return status, len(captured)


def main() -> None:
    with throwaway_database():
        session, organizer = build_large_session()
        member = Membership.objects.filter(group=session.group, role=Role.MEMBER).first().user
        poll_path = f"/api/v1/sessions/{session.pk}/notes/live/"
        figures, counts = {}, {}
        for label, user in (("organizer", organizer), ("member", member)):
            _, token = api_token_create(user=user, name="bench")
            client = Client(HTTP_AUTHORIZATION=f"Token {token}")
            first = client.get(poll_path)
            assert first.status_code == 200, first.content[:300]
            etag = first["ETag"]
            counts[f"poll 304, {label}"] = queries(client, poll_path, HTTP_IF_NONE_MATCH=etag)
            counts[f"poll 200, {label}"] = queries(client, poll_path)
            figures[f"poll 304, {label}"] = median_ms(
                lambda client=client, etag=etag: client.get(poll_path, HTTP_IF_NONE_MATCH=etag), repeat=51
            )
            figures[f"poll 200, {label} ({len(first.json()['notes'])} notes)"] = median_ms(
                lambda client=client: client.get(poll_path), repeat=21
            )
            if label == "organizer":
                counts["GET /api/v1/me/"] = queries(client, "/api/v1/me/")
                figures["GET /api/v1/me/"] = median_ms(lambda client=client: client.get("/api/v1/me/"), repeat=51)

        print(f"Machine: {machine()}")
        print(f"Large session: {PASSAGES} passages, {NOTES} notes by {MEMBERS} members")
        for name, value in figures.items():
            print(f"  {name:<40}{value:>10.2f} ms")
        for name, (status, number) in counts.items():
            print(f"  {name:<40}{number:>4} queries ({status})")
        me_ms = figures["GET /api/v1/me/"]
        print()
        for label in ("organizer", "member"):
            ratio = figures[f"poll 304, {label}"] / me_ms
            print(f"poll 304 ({label}) <= 1.5x me/: {ratio:.2f}x -> {'met' if ratio <= 1.5 else 'NOT MET'}")


if __name__ == "__main__":
    main()
