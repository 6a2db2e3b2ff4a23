"""Test data. Factories build rows directly; tests of behaviour go through services."""

from datetime import timedelta

import factory
from django.utils import timezone

from sessions_app.enums import Role, SessionStatus
from sessions_app.models import Membership, Session, StudyGroup, User

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    display_name = factory.LazyAttribute(lambda user: user.username.title())
    password = factory.django.Password(PASSWORD)


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StudyGroup

    name = factory.Sequence(lambda n: f"Reading Circle {n}")
    slug = factory.Sequence(lambda n: f"reading-circle-{n}")
    timezone = "Europe/London"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    group = factory.SubFactory(GroupFactory)
    role = Role.MEMBER


class SessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Session

    group = factory.SubFactory(GroupFactory)
    title = factory.Sequence(lambda n: f"Session {n}")
    starts_at = factory.LazyFunction(lambda: timezone.now().replace(microsecond=0) + timedelta(days=7))
    ends_at = factory.LazyAttribute(lambda session: session.starts_at + timedelta(minutes=90))
    timezone = "Europe/London"
    status = SessionStatus.SCHEDULED
