"""Every address names its permission rule (core/rules.py): an endpoint or page without one fails here.

What each rule lets each role do is checked, status by status, against
DESIGN.md's table in tests/test_authorization_matrix.py; this test only sees
that nothing is left without a rule, and that a view without one is refused.
"""

import pytest
from django.urls import URLResolver, get_resolver
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from core import rules
from core.api.permissions import ActionRules, rule_for
from pages.rules import rule_required


def _routes(resolver, prefix=""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.app_name == "admin":
                continue  # Django's admin: staff only, by its own permission system
            yield from _routes(pattern, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern.callback


def _api_problems(route: str, view) -> list[str]:
    cls, initkwargs = view.cls, getattr(view, "initkwargs", {})
    if ActionRules not in initkwargs.get("permission_classes", cls.permission_classes):
        return [f"{route}: {cls.__name__} does not use core.api.permissions.ActionRules"]
    instance = cls(**initkwargs)
    actions = getattr(view, "actions", None)
    if actions is None:  # an APIView: one rule per method it answers
        methods = [m for m in cls.http_method_names if hasattr(cls, m) and m not in ("head", "options")]
        actions = dict.fromkeys(methods)
    problems = []
    for method, action in actions.items():
        instance.action = action
        name = rule_for(instance, method.upper())
        if name is None or not rules.is_declared(name):
            problems.append(f"{route}: {method.upper()} ({action or cls.__name__}) has no rule")
    return problems


def test_every_address_names_a_rule():
    problems, seen = [], 0
    for route, view in _routes(get_resolver()):
        seen += 1
        cls = getattr(view, "cls", None)
        if cls is not None and issubclass(cls, APIView):
            problems += _api_problems(route, view)
        elif not rules.is_declared(getattr(view, "rule", "") or ""):
            problems.append(f"{route}: page without @rule_required (pages/rules.py)")
    assert seen > 60  # the walk reached the project's addresses
    assert problems == []


def test_an_api_view_without_a_rule_is_refused(world):
    class Forgotten(APIView):
        def get(self, request):
            raise AssertionError("reached")

    request = APIRequestFactory().get("/api/v1/forgotten/")
    force_authenticate(request, user=world.organizer)
    response = Forgotten.as_view()(request)
    assert response.status_code == 403
    assert response.data["detail"] == "This action has no permission rule."


def test_a_page_cannot_name_an_unknown_rule():
    with pytest.raises(LookupError):
        rule_required("sessions_app.no_such_rule")
