"""The user's own account."""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from ..models import User
from ..signals import profile_changed
from ..versions import group_versions_bump
from .api_tokens import api_tokens_revoke_all


@transaction.atomic
def profile_update(*, user: User, **fields: str) -> User:
    """Change the user's display name or email address; listeners hear which fields changed."""
    if unknown := set(fields) - {"display_name", "email"}:
        raise ValidationError({sorted(unknown)[0]: "This field cannot be changed."})
    if "email" in fields:
        try:
            validate_email(fields["email"])
        except ValidationError:
            raise ValidationError({"email": "Give a valid email address."}) from None
    changed = {key for key, value in fields.items() if getattr(user, key) != value.strip()}
    for key, value in fields.items():
        setattr(user, key, value.strip())
    user.save(update_fields=list(fields))
    if "display_name" in changed:
        # Packs show people by name (note authors, facilitators).
        group_versions_bump(group_ids=user.memberships.values("group_id"))
    if changed:
        profile_changed.send(sender=User, user=user, changed=changed)
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
