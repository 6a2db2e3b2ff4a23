"""Benchmark: importing texts (parse + store) through `text_import`.

Run: `DATABASE_URL=postgres://postgres@127.0.0.1:5432/studycircle .venv/bin/python bench/import.py`
Prints ms and passages/s for the sample essay and for 1 MB and 5 MB texts
built by repeating it; targets: sample < 100 ms, 5 MB < 5 s, linear growth.
"""

from _django import ROOT, machine, median_ms, throwaway_database
from django.db import transaction

from readings.parsing import decode_bytes, parse_document
from readings.services.importing import text_import
from sessions_app.models import StudyGroup

SAMPLE = (ROOT / "sample-texts" / "october-revolution-study-notes.txt").read_bytes()
MB = 1024 * 1024


def built_to(size: int) -> bytes:
    """Real material repeated to `size` bytes, cut at a paragraph boundary."""
    body = SAMPLE.split(b"\n", 1)[1]
    copies = size // len(body) + 1
    data = SAMPLE.split(b"\n", 1)[0] + b"\n" + body * copies
    return data[: data.rfind(b"\n\n", 0, size)]


class Rollback(Exception):
    pass


def import_once(group: StudyGroup, data: bytes) -> int:
    """Import inside a transaction that is rolled back, so every run starts equal."""
    count = 0
    try:
        with transaction.atomic():
            text = text_import(group=group, created_by=None, data=data, filename="bench.txt")
            count = text.passages.count()
            raise Rollback
    except Rollback:
        pass
    return count


def main() -> None:
    with throwaway_database():
        group = StudyGroup.objects.create(name="Bench", slug="bench")
        rows = []
        for label, data, repeat in (
            ("sample essay", SAMPLE, 15),
            ("1 MB", built_to(MB), 5),
            ("5 MB", built_to(5 * MB), 3),
        ):
            passages = import_once(group, data)
            text, _ = decode_bytes(data)
            parse_ms = median_ms(lambda text=text: parse_document(text, "txt"), repeat=repeat)
            total_ms = median_ms(lambda data=data: import_once(group, data), repeat=repeat)
            rows.append((label, len(data), passages, parse_ms, total_ms))
        print(f"Machine: {machine()}")
        print(
            f"{'input':<14}{'bytes':>11}{'passages':>10}{'parse ms':>10}{'import ms':>11}{'passages/s':>12}{'ms/MB':>9}"
        )
        for label, size, passages, parse_ms, total_ms in rows:
            print(
                f"{label:<14}{size:>11,}{passages:>10,}{parse_ms:>10.1f}{total_ms:>11.1f}"
                f"{passages / (total_ms / 1000):>12,.0f}{total_ms / (size / MB):>9.0f}"
            )
        sample_ms, five_mb_ms = rows[0][4], rows[2][4]
        one_mb, five_mb = rows[1], rows[2]
        growth = (five_mb[4] / five_mb[1]) / (one_mb[4] / one_mb[1])
        print(f"\nsample essay under 100 ms: {'yes' if sample_ms < 100 else 'NO'} ({sample_ms:.1f} ms)")
        print(f"5 MB under 5 s: {'yes' if five_mb_ms < 5000 else 'NO'} ({five_mb_ms / 1000:.2f} s)")
        print(f"linear: ms per byte at 5 MB is {growth:.2f}x that at 1 MB (1.00 = perfectly linear)")


if __name__ == "__main__":
    main()
