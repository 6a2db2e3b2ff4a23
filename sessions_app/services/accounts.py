"""The user's own account."""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from ..models import User


@transaction.atomic
def profile_update(*, user: User, **fields: str) -> User:
    """Change the user's display name or email address."""
    if unknown := set(fields) - {"display_name", "email"}:
        raise ValidationError({sorted(unknown)[0]: "This field cannot be changed."})
    if "email" in fields:
        try:
            validate_email(fields["email"])
        except ValidationError:
            raise ValidationError({"email": "Give a valid email address."}) from None
    for key, value in fields.items():
        setattr(user, key, value.strip())
    user.save(update_fields=list(fields))
    return user
