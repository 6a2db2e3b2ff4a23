"""Content versions: counters that rise with everything a person is shown of a session.

The session pack's ETag (`readings.pack.builder.pack_version`) is a hash of
the session's and the group's own fields, the person's role, and two
counters kept here, so computing it reads nothing beyond the session and
membership rows a request loads anyway:

- per session and role (`Session.members_version`, `facilitators_version`,
  `organizers_version`): raised for a change to what that role is shown of
  the session (readings, passages, notes, questions, facilitators, names);
- per membership (`Membership.personal_version`): raised for a change that
  only this person sees (their private notes, their own hidden or
  facilitators-only threads, notes "post before you peek" now shows them).

Raise them in the same transaction as the change, through these two
functions only (readings' changes go through `readings.pack.versions`, which
knows which sessions and people a note, text or question reaches). A change
reaches an *audience*: `EVERYONE` raises all three role counters,
`FACILITATORS` the facilitators' and organizers', `ORGANIZERS` the
organizers' alone; nothing a role may not see ever moves that role's
counter, so a version cannot leak what it covers. Raising a counter for a
change that turns out not to show is harmless (a client fetches again);
forgetting one serves a stale pack until the next change, so every service
that writes something a pack shows calls one of these. The session's own
fields (title, times, place, status) and the group's (name, slug, timezone)
enter the version directly, so editing them needs no call here.
"""

from collections.abc import Iterable
from datetime import datetime
from enum import IntEnum

from django.db.models import Exists, F, OuterRef, Q, QuerySet

from .enums import SUMMARY_STATUSES, Role
from .models import Membership, Session


class Audience(IntEnum):
    """Who is shown a change: each audience includes the ones above it."""

    EVERYONE = 0
    FACILITATORS = 1
    ORGANIZERS = 2


# The counter each role reads, and the roles each audience reaches.
ROLE_COUNTER = {
    Role.MEMBER: "members_version",
    Role.FACILITATOR: "facilitators_version",
    Role.ORGANIZER: "organizers_version",
}
_REACHED = {
    Audience.EVERYONE: ("members_version", "facilitators_version", "organizers_version"),
    Audience.FACILITATORS: ("facilitators_version", "organizers_version"),
    Audience.ORGANIZERS: ("organizers_version",),
}


def _and_the_sessions_after(sessions: QuerySet[Session]) -> QuerySet[Session]:
    """`sessions` and those whose pack shows the summary of one of them (`selectors.previous_session`).

    A session S shows the summary of P when P is the latest held-or-to-be-held session of the group
    before it: S starts after P with no such session in between. One query, with subqueries.
    """
    between = Session.objects.filter(
        group_id=OuterRef(OuterRef("group_id")),
        status__in=SUMMARY_STATUSES,
        starts_at__gt=OuterRef("starts_at"),
        starts_at__lt=OuterRef(OuterRef("starts_at")),
    )
    before = sessions.filter(
        group_id=OuterRef("group_id"), status__in=SUMMARY_STATUSES, starts_at__lt=OuterRef("starts_at")
    ).filter(~Exists(between))
    return Session.objects.filter(group_id__in=sessions.values("group_id")).filter(
        Q(pk__in=sessions.values("pk")) | Exists(before)
    )


def session_versions_bump(*, sessions: QuerySet[Session] | Iterable[int], audience: Audience) -> int:
    """Raise the counters of `sessions` (a queryset or ids) for `audience`; one UPDATE. Returns the rows changed.

    The session after each one (whose pack shows its summary: who came, its questions and answers, its
    follow-ups) is raised with it, for the same audience.
    """
    if not isinstance(sessions, QuerySet):
        sessions = Session.objects.filter(pk__in=list(sessions))
    return _and_the_sessions_after(sessions).update(**{field: F(field) + 1 for field in _REACHED[audience]})


def group_versions_bump(*, group_ids: Iterable[int] | QuerySet, audience: Audience = Audience.EVERYONE) -> int:
    """Raise the counters of every session of the groups: for changes that cross sessions (names, "peek")."""
    return session_versions_bump(sessions=Session.objects.filter(group_id__in=group_ids), audience=audience)


def following_versions_bump(*, group_id: int, after: datetime) -> int:
    """Raise every counter of the group's sessions that start after `after`; one UPDATE.

    A session's pack shows the summary of the session before it (`selectors.previous_session`):
    its title and time, who came, its questions and follow-ups. A change to a session (its
    attendance, its time or status, a new session in between) may alter or replace the summary
    later sessions show, so it raises theirs. Raising a few more than the next one is harmless.
    """
    return session_versions_bump(
        sessions=Session.objects.filter(group_id=group_id, starts_at__gt=after), audience=Audience.EVERYONE
    )


def personal_versions_bump(*, group_id: int, user_ids: Iterable[int] | QuerySet = (), members: Q | None = None) -> int:
    """Raise the personal counters of these people in the group; one UPDATE.

    `members`, a condition on Membership, adds the plain members it matches
    (e.g. those with a note on a passage "post before you peek" guards).
    """
    if not isinstance(user_ids, QuerySet):
        user_ids = list(user_ids)
    people = Q(user_id__in=user_ids)
    if members is not None:
        people |= Q(role=Role.MEMBER) & members
    return Membership.objects.filter(people, group_id=group_id).update(personal_version=F("personal_version") + 1)


def version_parts(*, session: Session, membership: Membership) -> tuple:
    """What the version of `membership`'s view of `session` is made of, from the two rows (no query).

    `session.group` must be loaded (`access_session` does).
    """
    group = session.group
    return (
        membership.pk,
        membership.user_id,
        membership.role,
        membership.personal_version,
        getattr(session, ROLE_COUNTER.get(membership.role, "members_version")),
        session.pk,
        session.title,
        session.description,
        session.starts_at.isoformat(),
        session.ends_at.isoformat(),
        session.timezone,
        session.location,
        session.online_url,
        session.status,
        group.pk,
        group.name,
        group.slug,
        group.timezone,
    )
