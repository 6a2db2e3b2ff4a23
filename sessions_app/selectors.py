"""Permission-scoped reads. Anything outside a user's groups is a 404 here."""

from functools import cache, cached_property

from django.db import connections, router
from django.db.models import Count, Func, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404

from core.compiled import CompiledQuery, any_of

from .enums import SUMMARY_STATUSES, Role, RSVPStatus, SessionStatus
from .models import RSVP, ApiToken, Attendance, Invitation, Membership, Series, Session, StudyGroup, User
from .tokens import key_digest

# What `User.name` reads: enough to show a person in a list.
USER_NAME_FIELDS = ("id", "display_name", "first_name", "last_name", "username")


def membership_for(user: User, group_id: int) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(user=user, group_id=group_id).select_related("group").first()


def groups_for_user(user: User) -> QuerySet[StudyGroup]:
    """The user's groups, each annotated with `my_role`."""
    role = Membership.objects.filter(group=OuterRef("pk"), user=user).values("role")[:1]
    return StudyGroup.objects.filter(memberships__user=user).annotate(my_role=Subquery(role)).order_by("name", "id")


def access_group(user: User, group_id: int | str) -> tuple[StudyGroup, Membership]:
    """The group and the user's membership, or 404 for anyone outside it."""
    try:
        group_id = int(group_id)
    except (TypeError, ValueError):
        raise Http404 from None
    membership = membership_for(user, group_id)
    if membership is None:
        raise Http404("No such group.")
    return membership.group, membership


def members_of(group: StudyGroup) -> QuerySet[Membership]:
    return group.memberships.select_related("user").order_by("user__username")


def invitations_of(group: StudyGroup) -> QuerySet[Invitation]:
    return group.invitations.all()


def access_invitation(token: str) -> Invitation:
    invitation = Invitation.objects.select_related("group").filter(token=token).first()
    if invitation is None:
        raise Http404("No such invitation.")
    return invitation


def sessions_for_user(user: User) -> QuerySet[Session]:
    """Sessions of the user's groups; drafts only for those with facilitator rights."""
    return _sessions_visible_to(user.pk)


def _sessions_visible_to(user_id: int) -> QuerySet[Session]:
    memberships = Membership.objects.filter(user_id=user_id)
    all_groups = memberships.values("group_id")
    leading_groups = memberships.filter(role__in=[Role.ORGANIZER, Role.FACILITATOR]).values("group_id")
    return Session.objects.filter(
        Q(group_id__in=all_groups) & (~Q(status=SessionStatus.DRAFT) | Q(group_id__in=leading_groups))
    )


def sessions_for_api(user: User) -> QuerySet[Session]:
    """`sessions_for_user` with what the API shows on every session, in a fixed number of queries."""
    my_rsvp = RSVP.objects.filter(session=OuterRef("pk"), user=user).values("status")[:1]
    return (
        sessions_for_user(user)
        .annotate(
            going_count=_rsvps_answering(RSVPStatus.GOING),
            maybe_count=_rsvps_answering(RSVPStatus.MAYBE),
            declined_count=_rsvps_answering(RSVPStatus.DECLINED),
            my_rsvp=Subquery(my_rsvp),
        )
        .prefetch_related(Prefetch("facilitators", queryset=User.objects.only(*USER_NAME_FIELDS).order_by("id")))
        .order_by("starts_at", "id")
    )


# What the session list shows of each session, read as values (`SessionViewSet.list`).
SESSION_LIST_FIELDS = (
    "id",
    "group_id",
    "series_id",
    "occurrence_index",
    "detached",
    "title",
    "description",
    "starts_at",
    "ends_at",
    "timezone",
    "location",
    "online_url",
    "status",
    "sequence",
    "post_before_peek",
    "reading_lead_minutes",
    "starting_lead_minutes",
    "reading_minutes",
)


def session_list_rows(sessions: QuerySet[Session]) -> QuerySet:
    """`sessions` (a filtered `sessions_for_user`) as the list reads them: `values_list` rows of
    `SESSION_LIST_FIELDS` in the list's order, no model instances; their RSVPs and facilitators come for the
    page apart (`rsvps_of_sessions`, `facilitators_of_sessions`). A list of 40 sessions spent most of its time
    instantiating sessions and their facilitators' per-session managers, and compiling the RSVP subqueries."""
    return sessions.order_by("starts_at", "id").values_list(*SESSION_LIST_FIELDS)


class SessionListRows:
    """`session_list_rows(sessions_for_user(user))` for the paginator, the first page read with SQL compiled
    once per process (`core.compiled`): building the visibility rule's queryset and compiling it cost more
    CPU than PostgreSQL spent answering it. Any other slice, and the count, go through the ORM as before.

    For a list with no filter asked for (`SessionViewSet.list`); the paginator slices the first page as
    `[:n]` (`core.api.pagination.Paginator`).
    """

    def __init__(self, user: User) -> None:
        self.user_id = user.pk

    @cached_property
    def queryset(self) -> QuerySet:
        return session_list_rows(_sessions_visible_to(self.user_id))

    def count(self) -> int:
        return self.queryset.count()

    def __getitem__(self, index):
        first = isinstance(index, slice) and not index.start and index.step is None and index.stop is not None
        if first and 0 < index.stop <= _FIRST_PAGE_MOST_ROWS:
            return _FIRST_PAGE.rows(index.stop, [self.user_id])
        return self.queryset[index]


# The first pages compiled: up to the API's largest page, its orphans and the one row more that tells
# whether the list goes on (`core.api.pagination`); a slice is part of the SQL, so each length is a shape.
_FIRST_PAGE_MOST_ROWS = 1000


@CompiledQuery
def _FIRST_PAGE(rows: int, args):
    return session_list_rows(_sessions_visible_to(args[0]))[:rows]


def rsvps_of_sessions(user: User, session_ids: list[int]) -> tuple[dict[int, dict[str, int]], dict[int, str]]:
    """For each session: how many answered each status, and the user's own answer (absent if none). One query,
    its SQL compiled once per process (PostgreSQL: the ids one array parameter)."""
    counts = {pk: dict.fromkeys(_RSVP_STATUSES, 0) for pk in session_ids}
    mine: dict[int, str] = {}
    if not session_ids:
        return counts, mine
    for session_id, status, n, own in _RSVP_COUNTS.rows(_by_array(), [session_ids, user.pk]):
        counts[session_id][status] = n
        if own:
            mine[session_id] = status
    return counts, mine


_RSVP_STATUSES = tuple(RSVPStatus.values)


def _of_sessions(by_array: bool, session_ids) -> Q | Func:
    return any_of("session_id", session_ids) if by_array else Q(session_id__in=session_ids)


def _by_array() -> bool:
    """Whether a list of ids goes to the database as one array parameter (PostgreSQL): one SQL for any number."""
    return connections[router.db_for_read(Session)].vendor == "postgresql"


@CompiledQuery
def _RSVP_COUNTS(by_array: bool, args):
    session_ids, user_id = args
    return (
        RSVP.objects.filter(_of_sessions(by_array, session_ids))
        .order_by()
        .values_list("session_id", "status")
        .annotate(n=Count("id"), mine=Count("id", filter=Q(user_id=user_id)))
    )


def facilitators_of_sessions(session_ids: list[int]) -> dict[int, list[dict]]:
    """Each session's facilitators as `{"id", "name"}`, by id, in one query of the columns `User.name` reads,
    its SQL compiled once per process."""
    facilitators: dict[int, list[dict]] = {pk: [] for pk in session_ids}
    if not session_ids:
        return facilitators
    name_from = User.name_from
    for session_id, user_id, display_name, first_name, last_name, username in _FACILITATORS.rows(
        _by_array(), [session_ids]
    ):
        facilitators[session_id].append(
            {"id": user_id, "name": name_from(display_name, first_name, last_name, username)}
        )
    return facilitators


@CompiledQuery
def _FACILITATORS(by_array: bool, args):
    return (
        Session.facilitators.through.objects.filter(_of_sessions(by_array, args[0]))
        .order_by("user_id")
        .values_list("session_id", *(f"user__{name}" for name in USER_NAME_FIELDS))
    )


def _rsvps_answering(status: str) -> Coalesce:
    """How many answered `status` to the session, as a subquery: no join and GROUP BY over every RSVP, so
    the paginator's COUNT(*) leaves it out and reads the sessions alone."""
    answers = (
        RSVP.objects.filter(session=OuterRef("pk"), status=status)
        .order_by()
        .values("session")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(answers, output_field=IntegerField()), 0)


def access_session(user: User, session_id: int | str, queryset: QuerySet[Session] | None = None) -> Session:
    """The session if the user may see it, else 404."""
    queryset = sessions_for_user(user) if queryset is None else queryset
    try:
        return queryset.select_related("group").get(pk=int(session_id))
    except (Session.DoesNotExist, TypeError, ValueError):
        raise Http404("No such session.") from None


def series_for_user(user: User) -> QuerySet[Series]:
    return Series.objects.filter(group__memberships__user=user)


def access_series(user: User, series_id: int | str) -> Series:
    try:
        return series_for_user(user).select_related("group").get(pk=int(series_id))
    except (Series.DoesNotExist, TypeError, ValueError):
        raise Http404("No such series.") from None


def rsvp_counts(session: Session) -> dict[str, int]:
    counts = dict(session.rsvps.values_list("status").annotate(n=Count("id")))
    return {status: counts.get(status, 0) for status in RSVPStatus.values}


def attendance_sheet(session: Session) -> dict:
    """Every member with their RSVP and whether they were marked present."""
    present = set(Attendance.objects.filter(session=session).values_list("user_id", flat=True))
    answers = dict(session.rsvps.values_list("user_id", "status"))
    members = [
        {
            "user": {"id": membership.user_id, "name": membership.user.name},
            "rsvp": answers.get(membership.user_id),
            "present": membership.user_id in present,
        }
        for membership in members_of(session.group)
    ]
    return {"present": sorted(present), "members": members}


def sessions_before(group_id: int, starts_at) -> QuerySet[Session]:
    """The group's sessions whose summary a later one shows, starting before `starts_at` (a moment, or an
    expression: the pack compiles it with the session's own start), the latest first, with their group."""
    return (
        Session.objects.filter(group_id=group_id, status__in=SUMMARY_STATUSES, starts_at__lt=starts_at)
        .select_related("group")
        .order_by("-starts_at", "-id")
    )


def previous_session(session: Session) -> Session | None:
    """The group's session before `session` (by start), whose summary `session`'s pack shows; None if none."""
    return sessions_before(session.group_id, session.starts_at).first()


def next_session(session: Session) -> Session | None:
    """The group's session after `session` (by start), which a summary of `session` points to; None if none."""
    return (
        Session.objects.filter(group_id=session.group_id, status__in=SUMMARY_STATUSES, starts_at__gt=session.starts_at)
        .select_related("group")
        .order_by("starts_at", "id")
        .first()
    )


def attendees_of(session: Session) -> list[User]:
    """Who was marked present at `session` (still members), by name."""
    users = User.objects.filter(attendance__session=session, memberships__group_id=session.group_id).order_by(
        "display_name", "first_name", "last_name", "username", "id"
    )
    return sorted(users, key=lambda user: (user.name.casefold(), user.pk))


def api_token_for_key(key: str) -> ApiToken | None:
    """The token (with its user) whose key this is, expired or not: one query on the digest's unique index.

    What `ApiToken.objects.select_related("user").get(digest=...)` answers, but every API request
    asks it, and the ORM spent longer compiling that query than PostgreSQL spent answering it: its
    SQL is written once per process instead (`_token_query`).
    """
    alias = router.db_for_read(ApiToken)
    query = _token_query(alias)
    with connections[alias].cursor() as cursor:
        cursor.execute(query.sql, [key_digest(key)])
        row = cursor.fetchone()
    if row is None:
        return None
    values = [convert(value) for convert, value in zip(query.converters, row, strict=True)]
    split = len(query.token_names)
    token = ApiToken.from_db(alias, query.token_names, values[:split])
    user = User.from_db(alias, query.user_names, values[split:])
    ApiToken.user.field.set_cached_value(token, user)
    return token


class _TokenQuery:
    """The token-with-its-user query in one database's SQL, and how to read its row."""

    def __init__(self, alias: str):
        connection = connections[alias]
        quote = connection.ops.quote_name
        tokens, users = ApiToken._meta.db_table, User._meta.db_table
        token_fields, user_fields = ApiToken._meta.concrete_fields, User._meta.concrete_fields
        columns = [f"{quote(tokens)}.{quote(f.column)}" for f in token_fields]
        columns += [f"{quote(users)}.{quote(f.column)}" for f in user_fields]
        digest = quote(ApiToken._meta.get_field("digest").column)
        user_id = quote(ApiToken._meta.get_field("user").column)
        self.sql = (
            f"SELECT {', '.join(columns)} FROM {quote(tokens)} "  # noqa: S608 (names from the models, quoted)
            f"INNER JOIN {quote(users)} ON ({quote(users)}.{quote(User._meta.pk.column)} = {quote(tokens)}.{user_id}) "
            f"WHERE {quote(tokens)}.{digest} = %s"
        )
        self.token_names = [f.attname for f in token_fields]
        self.user_names = [f.attname for f in user_fields]
        # The ORM's conversions of each column's value (the backend's and the field's own), as `get` applies them.
        self.converters = []
        for table, field in [(tokens, f) for f in token_fields] + [(users, f) for f in user_fields]:
            column = field.get_col(table)
            steps = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            self.converters.append(_chain(steps, column, connection))


def _chain(steps, expression, connection):
    if not steps:
        return lambda value: value

    def convert(value):
        for step in steps:
            value = step(value, expression, connection)
        return value

    return convert


@cache
def _token_query(alias: str) -> _TokenQuery:
    return _TokenQuery(alias)


def api_tokens_of(user: User) -> QuerySet[ApiToken]:
    """The user's own tokens, newest first; nobody sees another's."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")
