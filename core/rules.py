"""Who may do what, declared once: named rules (django-rules predicates) with the message a refusal gives.

Each domain app declares its rules in `<app>/rules.py` with `declare()`;
API views name a rule per action (`action_rules`, applied by
`core.api.permissions.ActionRules`), pages per view (`pages.rules.rule_required`).
`tests/test_rules_coverage.py` walks every URL and fails on one without a rule.

Seeing is still the selectors' job: they answer 404 to anyone outside the
group. A rule decides, for someone who may see, whether they may also do
(403 with the rule's message). It is checked against a `Target`: the object
and the requester's membership in its group, as the selector found them, so
a check costs no query of its own.
"""

from dataclasses import dataclass
from typing import Any

import rules
from django.core.exceptions import PermissionDenied


@dataclass(frozen=True)
class Target:
    """What a rule is checked against: the requester's `Membership` in the object's group (None: not a member)."""

    membership: Any
    obj: Any = None


_MESSAGES: dict[str, str] = {}


def declare(name: str, predicate: rules.Predicate, message: str) -> str:
    """Register rule `name` ("<app>.<verb>_<thing>"); `message` is what a refusal (403) says."""
    rules.add_rule(name, predicate)
    _MESSAGES[name] = message
    return name


def is_declared(name: str) -> bool:
    return rules.rule_exists(name)


def allowed(name: str, user, target: Target) -> bool:
    if not isinstance(target, Target):  # an object without its membership: no group rule can hold
        target = Target(membership=None, obj=target)
    return rules.test_rule(name, user, target)


def require(name: str, user, target: Target) -> None:
    """Raise PermissionDenied with the rule's message unless `user` may do `name` to `target`."""
    if not allowed(name, user, target):
        raise PermissionDenied(_MESSAGES.get(name, "You may not do that."))


# Two rules every app uses. ANYONE: no sign-in needed (the login page, an invitation link, a
# calendar feed's secret address). SIGNED_IN: any signed-in person; what they may see of the
# object is the selectors' answer (404 outside the group), nothing more is asked.
ANYONE = declare("core.anyone", rules.always_allow, "")
SIGNED_IN = declare("core.signed_in", rules.is_authenticated, "Sign in first.")
