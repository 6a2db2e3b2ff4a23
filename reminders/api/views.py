from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from core.links import absolute, absolute_url
from core.rules import SIGNED_IN
from sessions_app.services.accounts import profile_update

from ..models import Notification
from ..selectors import note_links, notifications_shown, unread_notification_count
from ..services.notifications import notifications_mark_read
from ..services.preferences import preference_for, preference_update
from .serializers import (
    MeSerializer,
    NotificationSerializer,
    NotificationsReadResultSerializer,
    NotificationsReadSerializer,
)


def _me(user) -> dict:
    preference = preference_for(user)
    return {
        "id": user.id,
        "username": user.username,
        "name": user.name,
        "display_name": user.display_name,
        "email": user.email,
        "timezone": preference.timezone,
        "reading_lead_minutes": preference.reading_lead_minutes,
        "digest_hour": preference.digest_hour,
        "notifications": {
            "reading": preference.email_reading,
            "starting": preference.email_starting,
            "changed": preference.email_changed,
            "cancelled": preference.email_cancelled,
            "reply": preference.email_reply,
            "mention": preference.email_mention,
            "answer": preference.email_answer,
            "nudge": preference.email_nudge,
            "summary": preference.email_summary,
            "brief": preference.email_brief,
        },
        "unread_notifications": unread_notification_count(user),
    }


class MeView(APIView):
    """Your profile, timezone and notification preferences."""

    action_rules = {"get": SIGNED_IN, "patch": SIGNED_IN}

    @extend_schema(responses={200: MeSerializer})
    def get(self, request):
        return Response(_me(request.user))

    @extend_schema(request=MeSerializer, responses={200: MeSerializer})
    def patch(self, request):
        data = MeSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        profile = {key: fields.pop(key) for key in ("display_name", "email") if key in fields}
        preferences = fields.pop("notifications", {})
        preferences.update(fields)
        with transaction.atomic():
            if profile:
                profile_update(user=request.user, **profile)
            if preferences:
                preference_update(user=request.user, **preferences)
        return Response(_me(request.user))


def _notification(one: Notification, links: dict[int, str]) -> dict:
    note = one.note
    return {
        "id": one.pk,
        "kind": one.kind,
        "read": one.read_at is not None,
        "created_at": one.created_at,
        "actor": {"id": one.actor_id, "name": one.actor.name} if one.actor else None,
        "group": {"id": one.group_id, "name": one.group.name},
        "note": None
        if note is None
        else {
            "id": note.pk,
            "passage": note.passage_id,
            "text": {"id": note.passage.text_id, "name": note.passage.text.title},
            "withheld": not one.shows_note,
            "body": note.body if one.shows_note else None,
        },
        "url": absolute(links[note.pk]) if note else absolute_url("notifications"),
    }


class NotificationListView(GenericAPIView):
    """Your notifications, newest first: replies to your notes and threads, mentions of you, answers to your
    questions. Each is read with your rights now: one about a note you may no longer see is left out."""

    serializer_class = NotificationSerializer
    filter_backends: list = []
    action_rules = {"get": SIGNED_IN}  # your own notifications only

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Notification.objects.none()
        shown = notifications_shown(self.request.user).select_related("actor", "group", "note__passage__text")
        if self.request.query_params.get("unread") in ("1", "true"):
            shown = shown.filter(read_at__isnull=True)
        return shown

    @extend_schema(
        parameters=[OpenApiParameter("unread", bool, description="Only unread notifications (`?unread=1`).")],
        responses={200: NotificationSerializer(many=True)},
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        links = note_links([one.note for one in page if one.note_id])
        return self.get_paginated_response([_notification(one, links) for one in page])


class NotificationsReadView(APIView):
    """Mark notifications read: `{"ids": [...]}` (yours; others' ids change nothing) or `{"all": true}`."""

    action_rules = {"post": SIGNED_IN}  # your own notifications only

    @extend_schema(request=NotificationsReadSerializer, responses={200: NotificationsReadResultSerializer})
    def post(self, request):
        data = NotificationsReadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        if fields.get("all"):
            marked = notifications_mark_read(user=request.user, everything=True)
        else:
            marked = notifications_mark_read(user=request.user, ids=fields["ids"])
        return Response({"marked": marked, "unread_notifications": unread_notification_count(request.user)})
