from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from core.rules import SIGNED_IN
from sessions_app.services.accounts import profile_update

from ..services.preferences import preference_for, preference_update
from .serializers import MeSerializer


def _me(user) -> dict:
    preference = preference_for(user)
    return {
        "id": user.id,
        "username": user.username,
        "name": user.name,
        "display_name": user.display_name,
        "email": user.email,
        "timezone": preference.timezone,
        "reading_lead_days": preference.reading_lead_days,
        "notifications": {
            "reading": preference.email_reading,
            "starting": preference.email_starting,
            "changed": preference.email_changed,
            "cancelled": preference.email_cancelled,
        },
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
