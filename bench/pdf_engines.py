"""Benchmark: the PDF pack with WeasyPrint (the printable HTML) and with Typst (the engine in use), side by side.

Run: `DATABASE_URL=postgres://postgres@127.0.0.1:5432/studycircle .venv/bin/python bench/pdf_engines.py`

For the large session of `bench/pack.py` (200 passages, 1,600 notes in the
organizer's pack, 20 questions) and the ordinary one (the sample essay with
36 notes), each engine renders the organizer's pack in a fresh process that
loads the session and builds the pack first, as a worker does; three runs
each, the median time and the largest peak RSS are printed. WeasyPrint is a
development dependency only (requirements-dev.txt; it needs Pango, which
chromium brings); where it cannot be imported only Typst is measured.
"""

import json
import os
import statistics
import sys
import time

from _django import children_peak_rss_mb, cpu_seconds, machine, peak_rss_mb, throwaway_database
from django.conf import settings
from pack import build_large_session, build_ordinary_session, in_fresh_process, pdf_pages

from readings.pack import formats
from readings.pack.builder import build_pack, pack_scope
from sessions_app.models import Membership, Session, User

RUNS = 3


def weasyprint_pdf(pack: dict) -> bytes:
    """The PDF as the pack made it before Typst: the printable HTML through WeasyPrint, fetching nothing."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    class RefuseEveryFetch(URLFetcher):
        def fetch(self, url, headers=None):
            raise ValueError(f"The pack renderer fetches nothing. Refused: {url[:100]}")

    return HTML(string=formats.html(pack).decode(), base_url=None, url_fetcher=RefuseEveryFetch()).write_pdf()


ENGINES = {"typst": formats.pdf, "weasyprint": weasyprint_pdf}


def engine_child(engine: str, session_id: int, user_id: int) -> None:
    start, cpu_start = time.perf_counter(), cpu_seconds()
    session = Session.objects.select_related("group").get(pk=session_id)
    user = User.objects.get(pk=user_id)
    membership = Membership.objects.get(user=user, group=session.group)
    data = ENGINES[engine](build_pack(pack_scope(user=user, session=session, membership=membership)))
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu_start
    # The largest process: Typst compiles in a child of its own, WeasyPrint in this one.
    figures = {"seconds": seconds, "cpu_seconds": cpu, "peak_mb": max(peak_rss_mb(), children_peak_rss_mb())}
    print(json.dumps({**figures, "pages": pdf_pages(data), "bytes": len(data)}))


def weasyprint_installed() -> bool:
    try:
        import weasyprint  # noqa: F401 (only checking that it imports)
    except (ImportError, OSError):
        return False
    return True


def main() -> None:
    engines = ["typst", "weasyprint"] if weasyprint_installed() else ["typst"]
    with throwaway_database():
        packs = {"large": build_large_session(), "ordinary": build_ordinary_session()}
        print(f"Machine: {machine()}")
        print(f"{RUNS} runs each in a fresh process (load, build the pack, render); median wall and CPU time, max RSS")
        for name, (session, user) in packs.items():
            for engine in engines:
                runs = [in_fresh_process(__file__, "--engine", engine, session.pk, user.pk) for _ in range(RUNS)]
                seconds = statistics.median(run["seconds"] for run in runs)
                cpu = statistics.median(run["cpu_seconds"] for run in runs)
                peak = max(run["peak_mb"] for run in runs)
                print(
                    f"  {name:<9}{engine:<11}{seconds * 1000:>9.0f} ms (CPU {cpu * 1000:.0f} ms)  "
                    f"peak RSS {peak:>4.0f} MB  "
                    f"{runs[0]['pages']} pages  {runs[0]['bytes'] / 1024:.0f} KiB"
                )
        if "weasyprint" not in engines:
            print("WeasyPrint is not installed: only Typst was measured.")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--engine":
        settings.DATABASES["default"]["NAME"] = os.environ["BENCH_DB_NAME"]
        engine_child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        main()
