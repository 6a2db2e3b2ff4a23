"""The exports over the API: a member's own notes (`me/export/`) and an organizer's download of the group.

Thin: access through sessions_app's selectors, permission by portability/rules.py,
the document from portability/services/exporting.py.
"""

from django.utils import timezone
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from core.rules import SIGNED_IN, Target
from sessions_app import selectors

from .. import rules
from ..services.exporting import group_export, member_export


def attachment(name: str) -> dict[str, str]:
    """Headers that make a browser save the JSON as a file named `<name>-<today>.json` (any letters, RFC 6266)."""
    return {
        "Content-Disposition": content_disposition_header(True, f"{name}-{timezone.now():%Y-%m-%d}.json"),
        "Cache-Control": "private, no-store",
    }


class MemberExportView(APIView):
    """Your own notes and highlights in your groups, with the words each is on (docs/export-format.md)."""

    action_rules = {"get": SIGNED_IN}

    @extend_schema(
        responses={
            200: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="A `studycircle.member-notes` document, version 1 (docs/export-format.md).",
            )
        }
    )
    def get(self, request):
        return Response(member_export(user=request.user), headers=attachment(f"{request.user.username}-notes"))


class GroupExportView(APIView):
    """The group's whole content as an organizer may download it: everything but other people's private notes."""

    action_rules = {"get": rules.EXPORT_GROUP}

    @extend_schema(
        responses={
            200: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="A `studycircle.group` document, version 1, with `complete: false` "
                "(docs/export-format.md).",
            )
        }
    )
    def get(self, request, pk: int):
        group, membership = selectors.access_group(request.user, pk)
        self.check_object_permissions(request, Target(membership, group))
        document = group_export(group=group, for_user=request.user)
        return Response(document, headers=attachment(group.slug))
