"""The request's transaction covers writes only (core/transactions.py): reads run in autocommit, with no
BEGIN and COMMIT, and a write refused with an answer or an error leaves nothing half-written."""

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, transaction
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from rest_framework import serializers
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from core.transactions import writes_in_transaction
from sessions_app.models import RSVP, StudyGroup


def _spy(seen: list):
    def spy(execute, sql, params, many, context):
        seen.append((sql.split()[0], connection.in_atomic_block))
        return execute(sql, params, many, context)

    return spy


@pytest.mark.django_db(transaction=True)
def test_a_read_runs_in_no_transaction_and_a_write_in_one(world, api):
    client = api(world.member)
    read, write = [], []

    with connection.execute_wrapper(_spy(read)):
        assert client.get("/api/v1/sessions/").status_code == 200
    with connection.execute_wrapper(_spy(write)):
        response = client.put(f"/api/v1/sessions/{world.session.pk}/rsvp/", {"status": "going"}, format="json")

    assert response.status_code == 200
    # ATOMIC_REQUESTS wrapped the GET in BEGIN ... COMMIT too: two round trips for nothing.
    assert read
    assert [atomic for _, atomic in read] == [False] * len(read)
    assert write
    assert [atomic for _, atomic in write] == [True] * len(write)
    assert RSVP.objects.get(session=world.session, user=world.member).status == "going"


class _WritesThenRefuses(APIView):
    """Makes a group, then refuses the request with a 400 (or fails with a 500), as a service might."""

    authentication_classes: list = []
    permission_classes: list = []

    def post(self, request):
        StudyGroup.objects.create(name="Half-written", slug="half-written")
        if request.data.get("crash"):
            raise RuntimeError("a bug after the write")
        raise serializers.ValidationError({"name": "Refused after a write."})

    get = post


@pytest.mark.django_db(transaction=True)
def test_a_write_refused_with_a_400_or_failing_leaves_nothing_written():
    view = writes_in_transaction(_WritesThenRefuses.as_view())
    factory = APIRequestFactory()

    response = view(factory.post("/x/", {}, format="json"))
    assert (response.status_code, response.data["detail"]) == (400, "name: Refused after a write.")
    with pytest.raises(RuntimeError):
        view(factory.post("/x/", {"crash": True}, format="json"))
    assert not StudyGroup.objects.filter(slug="half-written").exists()
    assert connection.get_autocommit()
    assert not connection.in_atomic_block

    # A read has no transaction to roll back: what it wrote stays (reads write one statement at most).
    assert view(factory.get("/x/")).status_code == 400
    assert StudyGroup.objects.filter(slug="half-written").count() == 1
    # So does a view outside the request transaction (the token and login views: refused tries stay counted).
    outside = writes_in_transaction(transaction.non_atomic_requests(_WritesThenRefuses.as_view()))
    StudyGroup.objects.all().delete()
    assert outside(factory.post("/x/", {}, format="json")).status_code == 400
    assert StudyGroup.objects.filter(slug="half-written").count() == 1


def test_every_view_of_the_site_runs_its_writes_in_a_transaction_unless_marked_not_to():
    def views(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from views(pattern.url_patterns)
            elif isinstance(pattern, URLPattern):
                yield pattern.callback

    every = list(views(get_resolver().url_patterns))

    # Already wrapped (or marked non-atomic, which it leaves alone): wrapping again gives the view back.
    assert [view for view in every if writes_in_transaction(view) is not view] == []
    assert len(every) > 100
    assert DEFAULT_DB_ALIAS in resolve("/api/v1/auth/token/").func._non_atomic_requests
    assert DEFAULT_DB_ALIAS not in getattr(resolve("/api/v1/notes/").func, "_non_atomic_requests", ())
