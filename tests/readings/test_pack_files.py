"""PDF and EPUB packs off the request: 202 + Retry-After while a worker renders into the shared cache, then 200.

The store is Redis, as in production (`pack_store`). Unit tests run the
worker's part (`pack_file_render`) in the test's process; the tests marked
`worker` run a real Celery worker process on the test's own queue.
"""

import threading

import pytest
from kombu.exceptions import OperationalError

from readings.pack.renderers import PackEPUBRenderer, PackPDFRenderer
from readings.services.notes import note_create
from readings.services.pack_files import pack_file_render
from sessions_app.models import Membership

from ..factories import MembershipFactory, UserFactory
from ..reminders.realparts import wait_for
from .conftest import at

pytestmark = pytest.mark.django_db

RENDERERS = {"pdf": PackPDFRenderer, "epub": PackEPUBRenderer}
MAGIC = {"pdf": b"%PDF-", "epub": b"PK\x03\x04"}


def pack_url(world, fmt: str) -> str:
    return f"/api/v1/sessions/{world.session.id}/pack/?format={fmt}"


@pytest.fixture
def builds(monkeypatch):
    """Counts the renders of each format in this process (the web's, and the worker's part when run here)."""
    counts = {"pdf": 0, "epub": 0}
    for fmt, renderer in RENDERERS.items():
        real = renderer.build

        def counted(self, pack, fmt=fmt, real=real):
            counts[fmt] += 1
            return real(self, pack)

        monkeypatch.setattr(renderer, "build", counted)
    return counts


def render_as_the_worker(world, user, preparing: dict) -> str | None:
    return pack_file_render(
        session_id=world.session.id, user_id=user.id, fmt=preparing["format"], version=preparing["version"]
    )


@pytest.mark.parametrize("fmt", ["pdf", "epub"])
def test_pack_file_is_202_with_retry_after_until_the_worker_has_rendered_it_then_200(
    world, api, reading, pack_store, builds, django_capture_on_commit_callbacks, fmt
):
    client = api(world.member)
    version = client.get(pack_url(world, "json"))["ETag"].strip('"')

    with django_capture_on_commit_callbacks() as queued:
        first = client.get(pack_url(world, fmt))
        again = client.get(pack_url(world, fmt))
    rendered = render_as_the_worker(world, world.member, first.json())
    ready = client.get(pack_url(world, fmt))

    label = fmt.upper()
    assert (first.status_code, first["Retry-After"], first["Content-Type"]) == (202, "2", "application/json")
    assert first.json() == {
        "detail": f"Your {label} is being prepared; ask again in 2 seconds.",
        "status": "preparing",
        "format": fmt,
        "version": version,
    }
    assert (again.status_code, again.json()) == (202, first.json())
    assert len(queued) == 1  # one render queued for two requests
    assert rendered == version
    assert (ready.status_code, ready["ETag"]) == (200, f'"{version}"')
    assert ready.content.startswith(MAGIC[fmt])
    assert builds == {"pdf": 0, "epub": 0} | {fmt: 1}  # the worker's one render; the requests made none


def test_a_request_never_renders_even_when_it_queues_the_render(world, api, reading, pack_store, monkeypatch):
    monkeypatch.setattr(PackPDFRenderer, "build", lambda self, pack: pytest.fail("rendered inside the request"))

    response = api(world.member).get(pack_url(world, "pdf"))

    assert response.status_code == 202


def test_the_file_is_per_person_and_follows_their_version(world, api, essay, reading, pack_store):
    member_b = UserFactory(username="member_b")
    MembershipFactory(group=world.group, user=member_b)
    mine = api(world.member).get(pack_url(world, "pdf")).json()
    render_as_the_worker(world, world.member, mine)

    theirs = api(member_b).get(pack_url(world, "pdf"))
    note_create(author=world.member, passage=at(essay, 12), body="A new note.", visibility="group")
    after_the_note = api(world.member).get(pack_url(world, "pdf"))

    assert theirs.status_code == 202  # my file is not theirs
    assert theirs.json()["version"] != mine["version"]
    assert after_the_note.status_code == 202
    assert after_the_note.json()["version"] != mine["version"]


def test_the_worker_renders_the_current_version_and_drops_the_persons_older_file(
    world, api, essay, reading, pack_store
):
    client = api(world.member)
    old = client.get(pack_url(world, "pdf")).json()
    render_as_the_worker(world, world.member, old)
    note_create(author=world.member, passage=at(essay, 12), body="A note that changes the pack.")
    asked = client.get(pack_url(world, "pdf")).json()
    note_create(author=world.member, passage=at(essay, 13), body="Written while the worker was busy.")

    stored = render_as_the_worker(world, world.member, asked)
    now = client.get(pack_url(world, "pdf"))

    assert len({old["version"], asked["version"], stored}) == 3
    assert (now.status_code, now["ETag"]) == (200, f'"{stored}"')
    files = {key for key in pack_store.stored() if key.startswith("pack:pdf:")}
    assert files == {f"pack:pdf:{world.session.id}:{stored}"}


def test_nothing_is_rendered_for_someone_who_left_the_group(world, api, reading, pack_store, builds):
    preparing = api(world.member).get(pack_url(world, "pdf")).json()
    Membership.objects.filter(user=world.member, group=world.group).delete()

    assert render_as_the_worker(world, world.member, preparing) is None
    assert builds["pdf"] == 0
    assert {key for key in pack_store.stored() if key.startswith("pack")} == set()


def test_a_failed_render_is_503_with_retry_after_and_is_tried_again_after_it(
    world, api, reading, pack_store, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.PACK_RENDER_RETRY_SECONDS = 1
    client = api(world.member)
    preparing = client.get(pack_url(world, "pdf")).json()
    monkeypatch.setattr(PackPDFRenderer, "build", lambda self, pack: 1 / 0)

    with pytest.raises(ZeroDivisionError):
        render_as_the_worker(world, world.member, preparing)
    failed = client.get(pack_url(world, "pdf"))
    with django_capture_on_commit_callbacks() as queued:
        retried = wait_for(
            lambda: (r := client.get(pack_url(world, "pdf"))).status_code == 202 and r,
            timeout=10,
            what="the failure to expire",
        )

    assert (failed.status_code, failed["Retry-After"]) == (503, "1")
    assert failed.json() == {
        "detail": "Your PDF could not be prepared; it will be tried again in 1 seconds.",
        "status": "failed",
        "format": "pdf",
        "version": preparing["version"],
    }
    assert retried.json()["status"] == "preparing"
    assert len(queued) == 1


def test_when_the_broker_is_away_the_next_request_queues_the_render_again(
    world, api, reading, pack_store, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr("readings.tasks.render_pack.apply_async", broker_down)
    client = api(world.member)
    with django_capture_on_commit_callbacks(execute=True) as first:
        client.get(pack_url(world, "pdf"))
    with django_capture_on_commit_callbacks() as second:
        response = client.get(pack_url(world, "pdf"))

    assert (len(first), len(second)) == (1, 1)
    assert response.status_code == 202


def test_a_304_for_a_pack_file_needs_no_file(world, api, reading, pack_store):
    tag = api(world.member).get(pack_url(world, "json"))["ETag"]

    response = api(world.member).get(pack_url(world, "pdf"), HTTP_IF_NONE_MATCH=tag)

    assert (response.status_code, response.content) == (304, b"")


# --- With a real worker process ----------------------------------------------------------------


@pytest.mark.worker
def test_two_concurrent_requests_queue_one_render_and_a_real_worker_makes_it_once(world, api, reading, render_worker):
    answers: dict[int, object] = {}
    start = threading.Barrier(2)

    def ask(n: int) -> None:
        client = api(world.member)
        start.wait()
        try:
            answers[n] = client.get(pack_url(world, "pdf"))
        finally:
            from django.db import connection

            connection.close()

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queued_before_the_worker = render_worker.queued()
    render_worker.start()
    client = api(world.member)
    ready = wait_for(
        lambda: (r := client.get(pack_url(world, "pdf"))).status_code == 200 and r,
        timeout=60,
        what="the worker to render the PDF",
    )
    again = client.get(pack_url(world, "pdf"))

    assert [answers[n].status_code for n in range(2)] == [202, 202]
    assert answers[0].json()["version"] == answers[1].json()["version"] == ready["ETag"].strip('"')
    assert queued_before_the_worker == 1
    assert ready.content.startswith(b"%PDF-")
    assert again.content == ready.content
    assert render_worker.renders("pdf") == 1
