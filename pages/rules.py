"""Every page declares its rule with one decorator, `rule_required` (the pages' side of `core/rules.py`).

    @rule_required(rules.CHANGE_SESSION, target=session_target, methods=["GET", "POST"])
    def session_edit(request, session_id: int, *, target: Target): ...

In order: not signed in → the login page (unless the rule is ANYONE); a
method not in `methods` → 405; `target(request, **url_kwargs)` loads the
object through its selector (404 for outsiders) with the requester's
membership, the rule is tested (403 with its message), and the view gets the
`Target` as `target=`. Without `target`, the rule is ANYONE or SIGNED_IN and
the view's selectors decide what it shows. `tests/test_rules_coverage.py`
fails on a page without a rule.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.views.decorators.http import require_http_methods

from core import rules
from core.rules import Target
from sessions_app import selectors


def rule_required(name: str, *, target: Callable[..., Target] | None = None, methods: list[str] | None = None):
    if not rules.is_declared(name):
        raise LookupError(f"No rule is declared as {name!r}")

    def decorate(view):
        checked = view
        if target is not None:

            @wraps(view)
            def checked(request, *args, **kwargs):
                found = target(request, **kwargs)
                rules.require(name, request.user, found)
                return view(request, *args, target=found, **kwargs)

        if methods is not None:
            checked = require_http_methods(methods)(checked)

        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if name != rules.ANYONE and not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            return checked(request, *args, **kwargs)

        wrapper.rule = name
        return wrapper

    return decorate


def anyone(view):
    """For a view made elsewhere (Django's auth views): open to everybody, declared so."""
    view.rule = rules.ANYONE
    return view


# --- Loaders: the object a URL names, through its selector (404 outside the group), and your membership in its group


def group_target(request, *, group_id: int, **_) -> Target:
    group, membership = selectors.access_group(request.user, group_id)
    return Target(membership, group)


def session_target(request, *, session_id: int, **_) -> Target:
    session = selectors.access_session(request.user, session_id)
    return Target(selectors.membership_for(request.user, session.group_id), session)


def series_target(request, *, series_id: int, **_) -> Target:
    series = selectors.access_series(request.user, series_id)
    _group, membership = selectors.access_group(request.user, series.group_id)
    return Target(membership, series)
