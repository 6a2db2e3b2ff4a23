"""Fixtures shared by every test: a group with one person in each role, and API clients."""

import os
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient

from sessions_app.enums import Role
from sessions_app.models import Session, StudyGroup, User

from .factories import GroupFactory, MembershipFactory, SessionFactory, UserFactory

ROLES = ("anonymous", "outsider", "member", "facilitator", "organizer")


def service_unavailable(name: str, why: str) -> None:
    """Skip a test whose real service is missing; under REQUIRE_SERVICES=1 (CI) that is a failure."""
    message = f"service not available: {name} ({why})"
    if settings.REQUIRE_SERVICES or os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(message + " and REQUIRE_SERVICES=1", pytrace=False)
    pytest.skip(message)


def pytest_sessionstart(session):
    if os.environ.get("REQUIRE_SERVICES") == "1":
        engine = settings.DATABASES["default"]["ENGINE"]
        if "postgresql" not in engine:
            raise pytest.UsageError(f"REQUIRE_SERVICES=1 needs DATABASE_URL on PostgreSQL; got {engine}.")
        if not os.environ.get("REDIS_URL"):
            raise pytest.UsageError("REQUIRE_SERVICES=1 needs REDIS_URL.")


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters and cached packs must not leak from one test to the next."""
    cache.clear()
    yield
    cache.clear()


@dataclass
class World:
    """A group with one person per role, a stranger in another group, and an upcoming session."""

    group: StudyGroup
    organizer: User
    facilitator: User
    member: User
    outsider: User
    other_group: StudyGroup
    session: Session

    def user(self, role: str) -> User | None:
        return None if role == "anonymous" else getattr(self, role)


@pytest.fixture
def world(db) -> World:
    group = GroupFactory(name="Tuesday Readers", timezone="America/New_York")
    other_group = GroupFactory(name="Other Circle")
    people = {role: UserFactory(username=role) for role in ("organizer", "facilitator", "member", "outsider")}
    MembershipFactory(group=group, user=people["organizer"], role=Role.ORGANIZER)
    MembershipFactory(group=group, user=people["facilitator"], role=Role.FACILITATOR)
    MembershipFactory(group=group, user=people["member"], role=Role.MEMBER)
    MembershipFactory(group=other_group, user=people["outsider"], role=Role.ORGANIZER)
    session = SessionFactory(group=group, timezone="America/New_York", title="October, week one")
    session.facilitators.add(people["facilitator"])
    return World(group=group, other_group=other_group, session=session, **people)


def client_for(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def api():
    """`api(user)` gives an API client signed in as `user` (None: anonymous)."""
    return client_for
