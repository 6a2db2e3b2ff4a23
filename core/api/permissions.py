"""The API's one permission class: each view names the rule of each of its actions.

    class GroupViewSet(...):
        action_rules = {
            "list": SIGNED_IN,
            "partial_update": "sessions_app.change_group",
            "invitations": "sessions_app.manage_invitations",
        }

A viewset is keyed by action (`self.action`), an APIView by lower-case
method; a key "<action>:<method>" (`"revisions:post"`) overrides the action's
rule for one method. `has_permission` lets in whoever the rule could admit
(ANYONE: everybody; any other rule: signed-in people, else 401); the view then
loads the object through its selector (404 for outsiders) and calls
`self.check_object_permissions(request, Target(membership, obj))`, which
tests the rule (403 with its message). An action with no rule is refused, and
`tests/test_rules_coverage.py` fails on it.

A method the view does not answer (405) and OPTIONS are let in under the
rule keyed "*" (SIGNED_IN if none): a public view says `"*": ANYONE`, so
everybody gets its 405 rather than a 401.
"""

from rest_framework.permissions import BasePermission

from core import rules


def rule_for(view, method: str) -> str | None:
    declared = getattr(view, "action_rules", {})
    method = "get" if method.upper() == "HEAD" else method.lower()
    if hasattr(view, "get_extra_actions"):  # a viewset: keyed by action
        action = view.action
        if action is None:  # a method this viewset does not answer
            return declared.get("*", rules.SIGNED_IN)
    else:
        action = method
        if method != "options" and not hasattr(view, method):
            return declared.get("*", rules.SIGNED_IN)
    found = declared.get(f"{action}:{method}") or declared.get(action)
    if found is None and action in ("metadata", "options"):
        return declared.get("*", rules.SIGNED_IN)  # OPTIONS describes the view
    return found


class ActionRules(BasePermission):
    def has_permission(self, request, view) -> bool:
        name = rule_for(view, request.method)
        if name is None or not rules.is_declared(name):
            self.message = "This action has no permission rule."
            return False
        return name == rules.ANYONE or bool(request.user and request.user.is_authenticated)

    def has_object_permission(self, request, view, obj) -> bool:
        rules.require(rule_for(view, request.method), request.user, obj)
        return True
