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

The pack also shows the summary of the session before (`previous_summary`):
its version reads that session's id, own fields and counter for the same role
with its scope (one join), so a change there raises that session's counters
only, never those of the sessions after it; which session is the previous one
is read afresh each time.
"""

from collections.abc import Iterable
from datetime import datetime
from enum import IntEnum

from django.db import connections, router
from django.db.models import F, Q, QuerySet

from .enums import Role
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


def _bump_sql(connection, audience: Audience) -> str:
    """The UPDATE that raises `audience`'s counters of the sessions whose ids are its one parameter (PostgreSQL:
    an array), written once per process: every note write runs it, and the ORM took longer to compile it than
    PostgreSQL to run it."""
    key = (connection.alias, audience)
    if key not in _BUMP_SQL:
        quote = connection.ops.quote_name
        raised = ", ".join(f"{quote(name)} = {quote(name)} + 1" for name in _REACHED[audience])
        _BUMP_SQL[key] = (
            f"UPDATE {quote(Session._meta.db_table)} SET {raised} "  # noqa: S608 (names from the model, quoted)
            f"WHERE {quote(Session._meta.pk.column)} = ANY(%s::bigint[])"
        )
    return _BUMP_SQL[key]


_BUMP_SQL: dict[tuple[str, Audience], str] = {}


def session_versions_bump(*, sessions: QuerySet[Session] | Iterable[int], audience: Audience) -> int:
    """Raise the counters of `sessions` (a queryset or ids) for `audience`; one UPDATE. Returns the rows changed.

    Only these sessions: the pack of the session after one of them, which shows its summary (who came, its
    questions and answers, its follow-ups), reads that session's counter with its own scope
    (`version_parts`' `previous`), so its version moves without a write here.
    """
    if isinstance(sessions, QuerySet):
        return sessions.update(**{field: F(field) + 1 for field in _REACHED[audience]})
    ids = sorted({int(pk) for pk in sessions})
    if not ids:
        return 0
    connection = connections[router.db_for_write(Session)]
    if connection.vendor != "postgresql":
        return Session.objects.filter(pk__in=ids).update(**{field: F(field) + 1 for field in _REACHED[audience]})
    with connection.cursor() as cursor:
        cursor.execute(_bump_sql(connection, audience), ["{" + ",".join(map(str, ids)) + "}"])
        return cursor.rowcount


def group_versions_bump(*, group_ids: Iterable[int] | QuerySet, audience: Audience = Audience.EVERYONE) -> int:
    """Raise the counters of every session of the groups: for changes that cross sessions (names, "peek")."""
    return session_versions_bump(sessions=Session.objects.filter(group_id__in=group_ids), audience=audience)


def following_versions_bump(*, group_id: int, after: datetime) -> int:
    """Raise every counter of the group's sessions that start after `after`; one UPDATE.

    A session's pack shows the summary of the session before it (`selectors.previous_session`): its
    title and time, who came, its questions and follow-ups. Which session that is, its own fields and
    its role counter are read with the pack's scope (`version_parts`' `previous`), so a new session
    in between, a change of time or status, or anything raising the previous session's counters moves
    the later pack's version without this. Who came is neither: attendance (`attendance_set`) still
    raises the sessions after through here. Raising a few more than the next one is harmless.
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


def version_parts(*, session: Session, membership: Membership, previous: Session | None = None) -> tuple:
    """What the version of `membership`'s view of `session` is made of, from the loaded rows (no query).

    `session.group` must be loaded (`access_session` does). `previous`, for the pack (which shows its
    summary): the group's session before `session` (`selectors.previous_session`) with its own fields
    and role counters, and `next_id`, the session its summary points to; None when there is none.
    The live reader leaves it out (it shows no summary).
    """
    group = session.group
    counter = ROLE_COUNTER.get(membership.role, "members_version")
    parts = (
        membership.pk,
        membership.user_id,
        membership.role,
        membership.personal_version,
        getattr(session, counter),
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
    if previous is None:
        return parts
    return (
        *parts,
        group.summary_attendance,
        previous.pk,
        getattr(previous, counter),
        previous.title,
        previous.starts_at.isoformat(),
        previous.ends_at.isoformat(),
        previous.timezone,
        previous.next_id,
    )
