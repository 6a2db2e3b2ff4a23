"""The user's own account."""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from core.services import UNSET, given, model_update

from ..models import User
from ..signals import profile_changed
from ..versions import group_versions_bump
from .api_tokens import api_tokens_revoke_all


@transaction.atomic
def profile_update(*, user: User, display_name: str = UNSET, email: str = UNSET) -> User:
    """Change the user's display name or email address; listeners hear which fields changed."""
    fields = {key: value.strip() for key, value in given(display_name=display_name, email=email).items()}
    if "email" in fields:
        try:
            validate_email(fields["email"])
        except ValidationError:
            raise ValidationError({"email": "Give a valid email address."}) from None
    changed = model_update(instance=user, data=fields)
    if "display_name" in changed:
        # Packs show people by name (note authors, facilitators).
        group_versions_bump(group_ids=user.memberships.values("group_id"))
    if changed:
        profile_changed.send(sender=User, user=user, changed=set(changed))
    return user


@transaction.atomic
def user_password_set(*, user: User, password: str | None) -> User:
    """Set the user's password (None: no password login at all) and revoke every API token they hold.

    Every form of ours that changes a password ends here (reset by email, the
    admin's "change password"), so a leaked token dies with the old password.
    Sessions end the Django way: the session hash covers the password.
    """
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.save(update_fields=["password"])
    api_tokens_revoke_all(user=user)
    return user
