"""Groups, invitations, series and sessions over HTTP.

Views are thin: read through a selector (404 outside the group), check the
rule (403 when visible but not yours to change), validate with an input
serializer, call a service, answer with an output serializer.
"""

from zoneinfo import ZoneInfo

from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.utils.decorators import method_decorator
from django.utils.text import slugify
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.filters import AwareDateTimeFilter, names_a_filter
from core.api.renderers import JSONErrorsMixin, OptionsInJSONMixin
from core.links import absolute_url
from core.rules import ANYONE, SIGNED_IN, Target
from core.throttling import per_account, per_address

from .. import rules, selectors
from ..calendar import calendar_bytes
from ..enums import SessionStatus
from ..links import pack_urls_of
from ..models import ApiToken, Membership, Series, Session, StudyGroup, User
from ..services import groups as group_services
from ..services import schedule
from ..services.api_tokens import api_token_create, api_token_revoke
from ..services.calendar_feeds import calendar_feed_for, calendar_feed_rotate
from . import serializers as s

# A 403 on a read, for the schema (writes declare theirs through core.api.schema).
ORGANIZERS_ONLY = OpenApiResponse(description="Only the group's organizers may see this.")
LEADERS_ONLY = OpenApiResponse(description="Only organizers and this session's facilitators may see this.")


def _group_for_write(user: User, group_id: int) -> tuple:
    """A group named in a request body: unknown and foreign groups read the same (400, not 404)."""
    membership = selectors.membership_for(user, group_id)
    if membership is None:
        raise serializers.ValidationError({"group": "No such group among yours."})
    return membership.group, membership


# --- Auth ---------------------------------------------------------------------------


@method_decorator(transaction.non_atomic_requests, name="dispatch")
class TokenView(APIView):
    """Exchange a username and password for an API token; DELETE revokes it.

    Limited per client address; django-axes locks an account from an address
    after repeated failures (its middleware answers 429 with `Retry-After`).
    Outside the request transaction, so a refused try stays counted.
    """

    action_rules = {"post": ANYONE, "delete": SIGNED_IN}

    def get_throttles(self):
        return [per_address("login", self.request)] if self.request.method == "POST" else []

    @extend_schema(request=s.TokenInputSerializer, responses={200: s.TokenSerializer}, auth=[])
    def post(self, request):
        data = s.TokenInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        credentials = {key: data.validated_data[key] for key in ("username", "password")}
        # The Django request, so axes' lockout flags reach its middleware.
        user = authenticate(request._request, **credentials)
        if user is None:
            raise serializers.ValidationError({"password": "That user name and password do not match."})
        # A login like the pages' (last_login; axes forgets this pair's earlier failures).
        user_logged_in.send(sender=type(user), request=request._request, user=user)
        with transaction.atomic():
            token, key = api_token_create(user=user, name=data.validated_data.get("name", ""))
        return Response(s.TokenSerializer({"token": key, "expires_at": token.expires_at}).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request):
        """Revoke the token this request was made with (signed in by cookie: there is none, and nothing changes)."""
        if isinstance(request.auth, ApiToken):
            api_token_revoke(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ApiTokenListView(GenericAPIView):
    """Your API tokens: GET lists them (never their keys), POST makes a named one and shows its key once."""

    serializer_class = s.ApiTokenSerializer
    filter_backends: list = []
    action_rules = {"get": SIGNED_IN, "post": SIGNED_IN}  # your own tokens only

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return ApiToken.objects.none()
        return selectors.api_tokens_of(self.request.user)

    @extend_schema(responses={200: s.ApiTokenSerializer(many=True)})
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        context = {"current": request.auth}
        return self.get_paginated_response(s.ApiTokenSerializer(page, many=True, context=context).data)

    @extend_schema(request=s.ApiTokenInputSerializer, responses={201: s.ApiTokenCreatedSerializer})
    def post(self, request):
        data = s.ApiTokenInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token, key = api_token_create(user=request.user, name=data.validated_data.get("name", ""))
        token.token = key
        return Response(s.ApiTokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)


class ApiTokenDetailView(APIView):
    """One of your API tokens: DELETE revokes it. Another person's token is a 404."""

    action_rules = {"delete": SIGNED_IN}

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, pk: int):
        token = selectors.api_tokens_of(request.user).filter(pk=pk).first()
        if token is None:
            raise Http404("No such token among yours.")
        api_token_revoke(token=token)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Groups -------------------------------------------------------------------------


class GroupViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    serializer_class = s.GroupSerializer
    filter_backends: list = []
    action_rules = {
        "list": SIGNED_IN,
        "create": SIGNED_IN,
        "retrieve": SIGNED_IN,
        "partial_update": rules.CHANGE_GROUP,
        "members": SIGNED_IN,
        "member": rules.CHANGE_MEMBER,
        "leave": SIGNED_IN,
        "invitations": rules.MANAGE_INVITATIONS,
        "invitation": rules.REVOKE_INVITATION,
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return StudyGroup.objects.none()
        return selectors.groups_for_user(self.request.user)

    def get_object(self):
        group, self.membership = selectors.access_group(self.request.user, self.kwargs["pk"])
        group.my_role = self.membership.role
        return group

    @extend_schema(request=s.GroupInputSerializer, responses={201: s.GroupSerializer})
    def create(self, request):
        data = s.GroupInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        group = group_services.group_create(creator=request.user, **data.validated_data)
        group.my_role = "organizer"
        return Response(s.GroupSerializer(group).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.GroupUpdateSerializer, responses={200: s.GroupSerializer})
    def partial_update(self, request, pk=None):
        group = self.get_object()
        self.check_object_permissions(request, Target(self.membership, group))
        data = s.GroupUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        group = group_services.group_update(group=group, **data.validated_data)
        return Response(s.GroupSerializer(group).data)

    @extend_schema(responses={200: s.MemberSerializer(many=True)})
    @action(detail=True, methods=["get"], filter_backends=[])
    def members(self, request, pk=None):
        group = self.get_object()
        page = self.paginate_queryset(selectors.members_of(group))
        return self.get_paginated_response(s.MemberSerializer(page, many=True).data)

    @extend_schema(
        parameters=[OpenApiParameter("user_id", int, OpenApiParameter.PATH, description="The member's user id.")]
    )
    @extend_schema(methods=["PATCH"], request=s.RoleInputSerializer, responses={200: s.MemberSerializer})
    @extend_schema(methods=["DELETE"], request=None, responses={204: None})
    @action(detail=True, methods=["patch", "delete"], url_path=r"members/(?P<user_id>[0-9]+)")
    def member(self, request, pk=None, user_id=None):
        group = self.get_object()
        target = selectors.members_of(group).filter(user_id=_int_or_404(user_id)).first()
        if target is None:
            raise Http404("No such member.")
        self.check_object_permissions(request, Target(self.membership, target))
        if request.method == "DELETE":
            group_services.membership_end(membership=target, leaving=False)
            return Response(status=status.HTTP_204_NO_CONTENT)
        data = s.RoleInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = group_services.membership_change_role(membership=target, role=data.validated_data["role"])
        return Response(s.MemberSerializer(membership).data)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["post"])
    def leave(self, request, pk=None):
        self.get_object()
        group_services.membership_end(membership=self.membership, leaving=True)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(methods=["GET"], responses={200: s.InvitationSerializer(many=True), 403: ORGANIZERS_ONLY})
    @extend_schema(methods=["POST"], request=s.InvitationInputSerializer, responses={201: s.InvitationSerializer})
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def invitations(self, request, pk=None):
        group = self.get_object()
        self.check_object_permissions(request, Target(self.membership, group))
        if request.method == "GET":
            page = self.paginate_queryset(selectors.invitations_of(group))
            return self.get_paginated_response(s.InvitationSerializer(page, many=True).data)
        data = s.InvitationInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invitation = group_services.invitation_create(group=group, created_by=request.user, **data.validated_data)
        return Response(s.InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={200: s.InvitationSerializer},
        parameters=[OpenApiParameter("invitation_id", int, OpenApiParameter.PATH)],
    )
    @action(detail=True, methods=["delete"], url_path=r"invitations/(?P<invitation_id>[0-9]+)")
    def invitation(self, request, pk=None, invitation_id=None):
        group = self.get_object()
        invitation = selectors.invitations_of(group).filter(pk=_int_or_404(invitation_id)).first()
        if invitation is None:
            raise Http404("No such invitation.")
        self.check_object_permissions(request, Target(self.membership, invitation))
        invitation = group_services.invitation_revoke(invitation=invitation)
        return Response(s.InvitationSerializer(invitation).data)


def _int_or_404(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404 from None


# --- Invitations by token -------------------------------------------------------------


class InvitationViewSet(viewsets.ViewSet):
    lookup_field = "token"
    lookup_value_regex = r"[A-Za-z0-9_\-]+"

    # The link is the credential: anyone may read it and sign up with it; accepting needs an account.
    action_rules = {"*": ANYONE, "retrieve": ANYONE, "signup": ANYONE, "accept": SIGNED_IN}

    def get_throttles(self):
        if self.action == "signup":
            email = self.request.data.get("email", "") if isinstance(self.request.data, dict) else ""
            return [per_address("signup", self.request), per_account("signup_account", str(email))]
        return super().get_throttles()

    @extend_schema(responses={200: s.InvitationPublicSerializer}, auth=[])
    def retrieve(self, request, token=None):
        return Response(s.InvitationPublicSerializer(selectors.access_invitation(token)).data)

    @extend_schema(
        request=None,
        responses={
            200: s.MembershipSerializer,
            201: s.MembershipSerializer,
            410: OpenApiResponse(description="Used up, revoked or expired."),
        },
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, token=None):
        invitation = selectors.access_invitation(token)
        already = Membership.objects.filter(group=invitation.group, user=request.user).exists()
        membership = group_services.invitation_accept(invitation=invitation, user=request.user)
        return Response(
            s.MembershipSerializer(membership).data, status=status.HTTP_200_OK if already else status.HTTP_201_CREATED
        )

    @extend_schema(
        request=s.SignupInputSerializer,
        responses={201: s.SignupSerializer, 410: OpenApiResponse(description="Used up, revoked or expired.")},
        auth=[],
    )
    @action(detail=True, methods=["post"])
    def signup(self, request, token=None):
        invitation = selectors.access_invitation(token)
        data = s.SignupInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = group_services.invitation_signup(invitation=invitation, **data.validated_data)
        _, key = api_token_create(user=membership.user, name="Made at sign-up")
        body = {
            "user": {"id": membership.user.id, "name": membership.user.name},
            "group": membership.group_id,
            "role": membership.role,
            "token": key,
        }
        return Response(body, status=status.HTTP_201_CREATED)


# --- Series -----------------------------------------------------------------------------


class SeriesViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    serializer_class = s.SeriesSerializer
    filterset_fields = ["group"]
    action_rules = {
        "list": SIGNED_IN,
        "retrieve": SIGNED_IN,
        "create": rules.CREATE_SERIES,
        "partial_update": rules.CHANGE_SERIES,
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Series.objects.none()
        sessions = selectors.sessions_for_user(self.request.user).order_by("occurrence_index", "starts_at")
        return (
            selectors.series_for_user(self.request.user)
            .prefetch_related(Prefetch("sessions", queryset=sessions))
            .order_by("id")
        )

    @extend_schema(request=s.SeriesInputSerializer, responses={201: s.SeriesSerializer})
    def create(self, request):
        data = s.SeriesInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        group, membership = _group_for_write(request.user, fields.pop("group"))
        self.check_object_permissions(request, Target(membership, group))
        series = schedule.series_create(group=group, **fields)
        return Response(s.SeriesSerializer(self.get_queryset().get(pk=series.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.SeriesUpdateSerializer, responses={200: s.SeriesSerializer})
    def partial_update(self, request, pk=None):
        series = selectors.access_series(request.user, pk)
        membership = selectors.membership_for(request.user, series.group_id)
        self.check_object_permissions(request, Target(membership, series))
        data = s.SeriesUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        schedule.series_update(series=series, **data.validated_data)
        return Response(s.SeriesSerializer(self.get_queryset().get(pk=series.pk)).data)


# --- Sessions ----------------------------------------------------------------------------


class SessionFilter(filters.FilterSet):
    starts_after = AwareDateTimeFilter(field_name="starts_at", lookup_expr="gte")
    starts_before = AwareDateTimeFilter(field_name="starts_at", lookup_expr="lt")
    status = filters.ChoiceFilter(choices=SessionStatus.choices)

    class Meta:
        model = Session
        fields = ["group", "series", "status", "starts_after", "starts_before"]


class SessionViewSet(
    OptionsInJSONMixin,
    JSONErrorsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """The sessions of your groups (drafts only to those who lead them), with RSVPs, attendance and the .ics."""

    serializer_class = s.SessionSerializer
    filterset_class = SessionFilter
    action_rules = {
        "list": SIGNED_IN,
        "retrieve": SIGNED_IN,
        "create": rules.CREATE_SESSION,
        "partial_update": rules.CHANGE_SESSION,
        "cancel": rules.CANCEL_SESSION,
        "rsvp": SIGNED_IN,
        "calendar": SIGNED_IN,
        "attendance": rules.MARK_ATTENDANCE,
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Session.objects.none()
        return selectors.sessions_for_api(self.request.user)

    def list(self, request):
        # The page read as values, then its RSVPs and its facilitators in one query each: no model instances.
        # Without a filter (most lists), the first page's SQL is compiled once per process.
        if names_a_filter(request, self):
            rows = selectors.session_list_rows(self.filter_queryset(selectors.sessions_for_user(request.user)))
        else:
            rows = selectors.SessionListRows(request.user)
        rows = self.paginate_queryset(rows)
        ids = [row[0] for row in rows]
        counts, mine = selectors.rsvps_of_sessions(request.user, ids)
        facilitators = selectors.facilitators_of_sessions(ids)
        urls = pack_urls_of()
        answer = [
            s.session_json(
                row,
                facilitators=facilitators[row[0]],
                rsvp_counts=counts[row[0]],
                my_rsvp=mine.get(row[0]),
                pack_urls=urls(row[0]),
            )
            for row in rows
        ]
        return self.get_paginated_response(answer)

    def get_object(self) -> Session:
        session = selectors.access_session(self.request.user, self.kwargs["pk"], self.get_queryset())
        self.membership = selectors.membership_for(self.request.user, session.group_id)
        return session

    def _fresh(self, session: Session) -> dict:
        return s.SessionSerializer(self.get_queryset().get(pk=session.pk), context=self.get_serializer_context()).data

    @extend_schema(request=s.SessionInputSerializer, responses={201: s.SessionSerializer})
    def create(self, request):
        data = s.SessionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        group, membership = _group_for_write(request.user, fields.pop("group"))
        self.check_object_permissions(request, Target(membership, group))
        session = schedule.session_create(group=group, **fields)
        return Response(self._fresh(session), status=status.HTTP_201_CREATED)

    @extend_schema(request=s.SessionUpdateSerializer, responses={200: s.SessionSerializer})
    def partial_update(self, request, pk=None):
        session = self.get_object()
        self.check_object_permissions(request, Target(self.membership, session))
        data = s.SessionUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        session = schedule.session_update(session=session, **data.validated_data)
        return Response(self._fresh(session))

    @extend_schema(request=None, responses={200: s.SessionSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        session = self.get_object()
        self.check_object_permissions(request, Target(self.membership, session))
        session = schedule.session_cancel(session=session)
        return Response(self._fresh(session))

    @extend_schema(methods=["PUT"], request=s.RSVPInputSerializer, responses={200: s.RSVPSerializer})
    @extend_schema(methods=["DELETE"], request=None, responses={200: s.RSVPSerializer})
    @action(detail=True, methods=["put", "delete"])
    def rsvp(self, request, pk=None):
        # The session alone: the list's annotations and facilitators are not needed here.
        session = selectors.access_session(request.user, pk)
        if request.method == "DELETE":
            answer = None
        else:
            data = s.RSVPInputSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            answer = data.validated_data["status"]
        schedule.rsvp_set(session=session, user=request.user, status=answer)
        return Response({"status": answer, "rsvp_counts": selectors.rsvp_counts(session)})

    @extend_schema(
        responses={(200, "text/calendar"): OpenApiTypes.BINARY},
        description="The session as an RFC 5545 calendar (METHOD:PUBLISH) with an alarm at its starting reminder.",
    )
    def calendar(self, request, pk=None):
        session = self.get_object()
        body = calendar_bytes([session], name=f"{session.title} · {session.group.name}")
        response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
        local_day = session.starts_at.astimezone(ZoneInfo(session.timezone))
        filename = f"{slugify(session.title) or 'session'}-{local_day:%Y-%m-%d}.ics"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    @extend_schema(methods=["GET"], responses={200: s.AttendanceSerializer, 403: LEADERS_ONLY})
    @extend_schema(methods=["PUT"], request=s.AttendanceInputSerializer, responses={200: s.AttendanceSerializer})
    @action(detail=True, methods=["get", "put"], filter_backends=[])
    def attendance(self, request, pk=None):
        session = self.get_object()
        self.check_object_permissions(request, Target(self.membership, session))
        if request.method == "PUT":
            data = s.AttendanceInputSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            schedule.attendance_set(session=session, marked_by=request.user, present=data.validated_data["present"])
        return Response(selectors.attendance_sheet(session))


class CalendarFeedView(APIView):
    """Your personal calendar feed: GET its address, POST to rotate it (the old address stops working)."""

    action_rules = {"get": SIGNED_IN, "post": SIGNED_IN}

    @staticmethod
    def _body(feed) -> dict:
        url = absolute_url("calendar-feed", feed.secret)
        return {"url": url, "webcal_url": "webcal://" + url.split("://", 1)[1]}

    @extend_schema(responses={200: s.CalendarFeedSerializer})
    def get(self, request):
        return Response(self._body(calendar_feed_for(user=request.user)))

    @extend_schema(request=None, responses={200: s.CalendarFeedSerializer})
    def post(self, request):
        return Response(self._body(calendar_feed_rotate(user=request.user)))
