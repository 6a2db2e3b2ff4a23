"""Input serializers validate; output serializers shape. Writes go through services."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.fields import (
    AwareDateTimeField,
    DescriptionField,
    IdField,
    LocalDateTimeField,
    SingleLineField,
    TimezoneField,
)

from ..enums import (
    SESSION_STATUSES_ON_CREATE,
    SESSION_STATUSES_ON_EDIT,
    NoteVisibility,
    Role,
    RSVPStatus,
    SessionStatus,
    SummaryAttendance,
)
from ..links import pack_urls
from ..models import Invitation, Membership, Series, Session, StudyGroup
from ..selectors import SESSION_LIST_FIELDS
from ..services.groups import invitation_problem, invitation_url


class ChoiceField(serializers.ChoiceField):
    """A choice field whose error lists the valid choices."""

    def __init__(self, choices, **kwargs):
        super().__init__(choices, **kwargs)
        self.error_messages["invalid_choice"] = (
            f"“{{input}}” is not one of: {', '.join(str(key) for key in self.choices)}."
        )


class UserSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


# --- Groups ----------------------------------------------------------------------


class GroupInputSerializer(serializers.Serializer):
    name = SingleLineField(max_length=200)
    description = DescriptionField(required=False, allow_blank=True, default="")
    timezone = TimezoneField(required=False, default="UTC")


class GroupUpdateSerializer(serializers.Serializer):
    name = SingleLineField(max_length=200, required=False)
    description = DescriptionField(required=False, allow_blank=True)
    timezone = TimezoneField(required=False)
    member_progress_visible = serializers.BooleanField(
        required=False, help_text="Facilitators see each member's reading progress; false: totals only."
    )
    reading_lead_minutes = serializers.IntegerField(required=False, help_text="Reading reminder, minutes before.")
    starting_lead_minutes = serializers.IntegerField(required=False, help_text="Starting reminder, minutes before.")
    default_note_visibility = ChoiceField(
        choices=NoteVisibility.choices,
        required=False,
        help_text="Who a member's first note in the group is for; after that, the audience they chose last.",
    )
    highlights_unlock_peek = serializers.BooleanField(
        required=False, help_text="Whether a highlight counts as posting for post-before-you-peek."
    )
    summary_attendance = ChoiceField(
        choices=SummaryAttendance.choices,
        required=False,
        help_text="Whether the after-session summary names who came (`names`) or only counts them (`counts`).",
    )


class GroupSerializer(serializers.ModelSerializer):
    my_role = serializers.SerializerMethodField()
    created_at = AwareDateTimeField(read_only=True)

    class Meta:
        model = StudyGroup
        fields = [
            "id",
            "name",
            "slug",
            "description",
            "timezone",
            "reading_lead_minutes",
            "starting_lead_minutes",
            "default_note_visibility",
            "highlights_unlock_peek",
            "member_progress_visible",
            "summary_attendance",
            "my_role",
            "created_at",
        ]

    @extend_schema_field(serializers.ChoiceField(choices=Role.choices))
    def get_my_role(self, group: StudyGroup) -> str | None:
        role = getattr(group, "my_role", None)
        if role is None and (membership := self.context.get("membership")) is not None:
            role = membership.role
        return role


class MemberSerializer(serializers.ModelSerializer):
    user = UserSummarySerializer(read_only=True)
    joined_at = AwareDateTimeField(read_only=True)

    class Meta:
        model = Membership
        fields = ["user", "role", "joined_at"]


class RoleInputSerializer(serializers.Serializer):
    role = ChoiceField(choices=Role.choices)


class MembershipSerializer(serializers.ModelSerializer):
    """What joining a group returns: `{"group", "role"}` plus a little context."""

    group_name = serializers.CharField(source="group.name", read_only=True)

    class Meta:
        model = Membership
        fields = ["group", "group_name", "role"]


# --- Invitations -----------------------------------------------------------------


class InvitationInputSerializer(serializers.Serializer):
    role = ChoiceField(choices=Role.choices, required=False, default=Role.MEMBER)
    max_uses = serializers.IntegerField(required=False, default=1, min_value=1, max_value=10_000)
    expires_at = AwareDateTimeField(required=False, default=None, allow_null=True)


class InvitationSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    expires_at = AwareDateTimeField(read_only=True)
    created_at = AwareDateTimeField(read_only=True)
    revoked_at = AwareDateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = Invitation
        fields = ["id", "token", "url", "role", "max_uses", "use_count", "expires_at", "revoked_at", "created_at"]

    def get_url(self, invitation: Invitation) -> str:
        return invitation_url(invitation)


class InvitationPublicSerializer(serializers.ModelSerializer):
    """What anyone holding the link may see before accepting it."""

    group = serializers.SerializerMethodField()
    expires_at = AwareDateTimeField(read_only=True)
    usable = serializers.SerializerMethodField()
    problem = serializers.SerializerMethodField()

    class Meta:
        model = Invitation
        fields = ["group", "role", "expires_at", "usable", "problem"]

    @extend_schema_field(
        {
            "type": "object",
            "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "description": {"type": "string"}},
        }
    )
    def get_group(self, invitation: Invitation) -> dict:
        group = invitation.group
        return {"id": group.id, "name": group.name, "description": group.description}

    def get_usable(self, invitation: Invitation) -> bool:
        return invitation_problem(invitation) is None

    def get_problem(self, invitation: Invitation) -> str | None:
        return invitation_problem(invitation)


class SignupInputSerializer(serializers.Serializer):
    username = SingleLineField(max_length=150)
    display_name = SingleLineField(
        max_length=150, required=False, allow_blank=True, help_text="The name others see; the user name if empty."
    )
    email = serializers.EmailField()
    password = serializers.CharField(write_only=True, style={"input_type": "password"})


class SignupSerializer(serializers.Serializer):
    user = UserSummarySerializer()
    group = serializers.IntegerField()
    role = serializers.CharField()
    token = serializers.CharField(help_text="An API token for the new account.")


# --- Series and sessions -----------------------------------------------------------


class SeriesInputSerializer(serializers.Serializer):
    group = serializers.IntegerField()
    title = SingleLineField(max_length=200)
    timezone = TimezoneField()
    first_starts_at = LocalDateTimeField(help_text="Local wall-clock time in `timezone`, no offset.")
    duration_minutes = serializers.IntegerField(min_value=1, max_value=24 * 60, default=90)
    rrule = SingleLineField(max_length=500, allow_blank=True, required=False, default="")
    description = DescriptionField(allow_blank=True, required=False, default="")
    location = SingleLineField(max_length=300, allow_blank=True, required=False, default="")
    online_url = serializers.URLField(max_length=500, allow_blank=True, required=False, default="")
    facilitators = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)


class SeriesUpdateSerializer(serializers.Serializer):
    title = SingleLineField(max_length=200, required=False)
    timezone = TimezoneField(required=False)
    first_starts_at = LocalDateTimeField(required=False)
    duration_minutes = serializers.IntegerField(min_value=1, max_value=24 * 60, required=False)
    rrule = SingleLineField(max_length=500, allow_blank=True, required=False)
    description = DescriptionField(allow_blank=True, required=False)
    location = SingleLineField(max_length=300, allow_blank=True, required=False)
    online_url = serializers.URLField(max_length=500, allow_blank=True, required=False)


class SeriesSessionSerializer(serializers.ModelSerializer):
    starts_at = AwareDateTimeField(read_only=True)
    ends_at = AwareDateTimeField(read_only=True)

    class Meta:
        model = Session
        fields = ["id", "occurrence_index", "starts_at", "ends_at", "status", "detached"]


class SeriesSerializer(serializers.ModelSerializer):
    first_starts_at = LocalDateTimeField(read_only=True)
    sessions = SeriesSessionSerializer(many=True, read_only=True)

    class Meta:
        model = Series
        fields = [
            "id",
            "group",
            "title",
            "description",
            "timezone",
            "first_starts_at",
            "duration_minutes",
            "rrule",
            "location",
            "online_url",
            "sessions",
        ]


class SessionInputSerializer(serializers.Serializer):
    group = serializers.IntegerField()
    title = SingleLineField(max_length=200)
    starts_at = AwareDateTimeField()
    ends_at = AwareDateTimeField()
    timezone = TimezoneField(required=False, allow_blank=True, default="")
    location = SingleLineField(max_length=300, allow_blank=True, required=False, default="")
    online_url = serializers.URLField(max_length=500, allow_blank=True, required=False, default="")
    description = DescriptionField(allow_blank=True, required=False, default="")
    status = ChoiceField(choices=SESSION_STATUSES_ON_CREATE, required=False, default=SessionStatus.SCHEDULED)
    facilitators = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)
    post_before_peek = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs):
        if attrs["ends_at"] <= attrs["starts_at"]:
            raise serializers.ValidationError({"ends_at": "The session must end after it starts."})
        return attrs


class SessionUpdateSerializer(serializers.Serializer):
    title = SingleLineField(max_length=200, required=False)
    starts_at = AwareDateTimeField(required=False)
    ends_at = AwareDateTimeField(required=False)
    timezone = TimezoneField(required=False)
    location = SingleLineField(max_length=300, allow_blank=True, required=False)
    online_url = serializers.URLField(max_length=500, allow_blank=True, required=False)
    description = DescriptionField(allow_blank=True, required=False)
    status = ChoiceField(choices=SESSION_STATUSES_ON_EDIT, required=False)
    facilitators = serializers.ListField(child=serializers.IntegerField(), required=False)
    post_before_peek = serializers.BooleanField(required=False)
    reading_lead_minutes = serializers.IntegerField(required=False, allow_null=True)
    starting_lead_minutes = serializers.IntegerField(required=False, allow_null=True)


class PackUrlsSerializer(serializers.Serializer):
    json = serializers.URLField()
    md = serializers.URLField()
    html = serializers.URLField()
    pdf = serializers.URLField()
    epub = serializers.URLField()
    ics = serializers.URLField()


class RSVPCountsSerializer(serializers.Serializer):
    going = serializers.IntegerField()
    maybe = serializers.IntegerField()
    declined = serializers.IntegerField()


class SessionSerializer(serializers.ModelSerializer):
    """A session as every member sees it. Counts come annotated by `sessions_for_api`."""

    starts_at = AwareDateTimeField(read_only=True)
    ends_at = AwareDateTimeField(read_only=True)
    facilitators = UserSummarySerializer(many=True, read_only=True)
    rsvp_counts = serializers.SerializerMethodField()
    my_rsvp = serializers.SerializerMethodField()
    pack_urls = serializers.SerializerMethodField()

    class Meta:
        model = Session
        fields = [
            "id",
            "group",
            "series",
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
            "facilitators",
            "sequence",
            "post_before_peek",
            "reading_lead_minutes",
            "starting_lead_minutes",
            "reading_minutes",
            "rsvp_counts",
            "my_rsvp",
            "pack_urls",
        ]

    @extend_schema_field(RSVPCountsSerializer)
    def get_rsvp_counts(self, session: Session) -> dict[str, int]:
        return {
            RSVPStatus.GOING: session.going_count,
            RSVPStatus.MAYBE: session.maybe_count,
            RSVPStatus.DECLINED: session.declined_count,
        }

    @extend_schema_field(serializers.ChoiceField(choices=RSVPStatus.choices, allow_null=True))
    def get_my_rsvp(self, session: Session) -> str | None:
        return session.my_rsvp

    @extend_schema_field(PackUrlsSerializer)
    def get_pack_urls(self, session: Session) -> dict[str, str]:
        return pack_urls(session.pk)

    def to_representation(self, session: Session) -> dict:
        """The fields above, written directly: DRF's field-by-field walk was most of a session list's cost.

        tests/sessions_app/test_api_sessions.py::test_session_list_answers_what_its_declared_fields_answer
        holds it to what the declared fields answer.
        """
        return session_json(
            tuple(getattr(session, name) for name in SESSION_LIST_FIELDS),
            facilitators=[{"id": user.pk, "name": user.name} for user in session.facilitators.all()],
            rsvp_counts=self.get_rsvp_counts(session),
            my_rsvp=session.my_rsvp,
            pack_urls=pack_urls(session.pk),
        )


def session_json(
    row: tuple, *, facilitators: list[dict], rsvp_counts: dict[str, int], my_rsvp: str | None, pack_urls: dict
) -> dict:
    """A session as `SessionSerializer` answers it, from its columns: a row of `selectors.SESSION_LIST_FIELDS`
    (in that order, as `values_list` reads them) and its `links.pack_urls`. The list's test
    (`test_session_list_answers_what_its_declared_fields_answer`) fails if the two orders part."""
    (
        pk,
        group_id,
        series_id,
        occurrence_index,
        detached,
        title,
        description,
        starts_at,
        ends_at,
        timezone,
        location,
        online_url,
        status,
        sequence,
        post_before_peek,
        reading_lead_minutes,
        starting_lead_minutes,
        reading_minutes,
    ) = row
    return {
        "id": pk,
        "group": group_id,
        "series": series_id,
        "occurrence_index": occurrence_index,
        "detached": detached,
        "title": title,
        "description": description,
        "starts_at": _instant(starts_at),
        "ends_at": _instant(ends_at),
        "timezone": timezone,
        "location": location,
        "online_url": online_url,
        "status": status,
        "facilitators": facilitators,
        "sequence": sequence,
        "post_before_peek": post_before_peek,
        "reading_lead_minutes": reading_lead_minutes,
        "starting_lead_minutes": starting_lead_minutes,
        "reading_minutes": reading_minutes,
        "rsvp_counts": rsvp_counts,
        "my_rsvp": my_rsvp,
        "pack_urls": pack_urls,
    }


_instant = AwareDateTimeField().to_representation


class RSVPInputSerializer(serializers.Serializer):
    status = ChoiceField(choices=RSVPStatus.choices)


class RSVPSerializer(serializers.Serializer):
    status = serializers.CharField(allow_null=True)
    rsvp_counts = RSVPCountsSerializer()


class AttendanceInputSerializer(serializers.Serializer):
    present = serializers.ListField(child=IdField(), allow_empty=True)


class AttendanceMemberSerializer(serializers.Serializer):
    user = UserSummarySerializer()
    rsvp = serializers.CharField(allow_null=True)
    present = serializers.BooleanField()


class AttendanceSerializer(serializers.Serializer):
    present = serializers.ListField(child=serializers.IntegerField())
    members = AttendanceMemberSerializer(many=True)


# --- Accounts --------------------------------------------------------------------


class TokenInputSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"})
    name = SingleLineField(
        required=False, allow_blank=True, help_text="What the token is for, shown in your token list."
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="The key, shown this once: only its hash is kept.")
    expires_at = serializers.DateTimeField()


class ApiTokenInputSerializer(serializers.Serializer):
    name = SingleLineField(required=False, allow_blank=True, help_text="What the token is for.")


class ApiTokenSerializer(serializers.Serializer):
    """A token as its owner sees it in the list: never its key."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.CharField(help_text="The key's first characters, to tell tokens apart.")
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True, help_text="Exact to the minute.")
    expires_at = serializers.DateTimeField()
    current = serializers.SerializerMethodField(help_text="Whether this request was made with it.")

    def get_current(self, token) -> bool:
        return token == self.context.get("current")


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    token = serializers.CharField(help_text="The key, shown this once: only its hash is kept.")


class CalendarFeedSerializer(serializers.Serializer):
    url = serializers.URLField(help_text="Subscribe to this address in a calendar app; keep it secret.")
    webcal_url = serializers.CharField(help_text="The same address with the webcal:// scheme.")
