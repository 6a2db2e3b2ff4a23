"""docs/operations.md's backup and restore, done as written: pg_dump of a populated database, pg_restore into a new one.

A session's pack is read from each database by a `manage.py shell` process, as
a web node would build it: the JSON (with its version, the hash of what the
person may see), and the Markdown a facilitator prints. Both must be identical.
"""

import json
import os
import re
import subprocess
import sys

import pytest

from .conftest import service_unavailable
from .populated import populate_group
from .reminders.realparts import ROOT, database_url

pytestmark = pytest.mark.slow

PACK = """
import json
from readings.pack.builder import build_pack, pack_scope, pack_version
from readings.pack.formats import markdown
from sessions_app.models import Membership, Session
session = Session.objects.select_related("group").get(pk={session})
membership = Membership.objects.select_related("user").get(group=session.group, user_id={user})
scope = pack_scope(user=membership.user, session=session, membership=membership)
pack = build_pack(scope)
pack.pop("generated_at")
print("PACK " + json.dumps({{"version": pack_version(scope), "pack": pack, "markdown": markdown(pack).decode()}}))
"""


def manage(*args: str, url: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


def pack_from(url: str, *, session: int, user: int) -> dict:
    result = manage("shell", "-c", PACK.format(session=session, user=user), url=url)
    assert result.returncode == 0, result.stderr[-3000:]
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("PACK ")]
    return json.loads(line.removeprefix("PACK "))


def test_a_restored_backup_gives_the_same_pack(scratch_databases, tmp_path):
    populated = populate_group()
    dump = scratch_databases.dump(tmp_path / "studycircle.dump")
    restored = scratch_databases.create("restored")

    scratch_databases.restore(dump, restored)

    for person in (populated.member, populated.facilitator):
        before = pack_from(database_url(), session=populated.session.pk, user=person.pk)
        after = pack_from(scratch_databases.url(restored), session=populated.session.pk, user=person.pk)
        assert after == before
        assert "towering achievement" in after["markdown"]
    # The member's own private note is in their pack, and nobody else's.
    member_pack = pack_from(scratch_databases.url(restored), session=populated.session.pk, user=populated.member.pk)
    assert "My own reminder." in member_pack["markdown"]
    assert "Organizer's own reminder." not in member_pack["markdown"]
    # The restored database is at this release's migrations: `migrate` has nothing to do.
    check = manage("migrate", "--check", url=scratch_databases.url(restored))
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.django_db
def test_the_queries_in_docs_operations_run_on_postgresql():
    from django.db import connection

    if connection.vendor != "postgresql":
        service_unavailable("PostgreSQL", "the queries are PostgreSQL's")
    queries = re.findall(r"```sql\n(.*?)```", (ROOT / "docs" / "operations.md").read_text(), re.DOTALL)

    answers = []
    with connection.cursor() as cursor:
        for query in queries:
            cursor.execute(query)
            answers.append(cursor.fetchall())

    assert len(answers) == 2
    assert answers[0] == [(0, None)]  # no overdue reminders in an empty outbox
    assert answers[1] == []
