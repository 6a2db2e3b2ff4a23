"""Every password a person sets goes through `user_password_set` (which revokes their API tokens)."""

from django.contrib.admin import forms as admin_forms
from django.contrib.auth.forms import AdminPasswordChangeForm

from .services.accounts import user_password_set


class PasswordSetThroughService:
    """Django's password forms all set the password in `set_password_and_save`; ours hand it to the service,
    which also revokes the person's API tokens. (The service always saves: Django's views save anyway.)"""

    def set_password_and_save(self, user, password_field_name="password1", commit=True):  # noqa: S107 (a field name)
        usable = self.cleaned_data.get("set_usable_password", True)
        return user_password_set(user=user, password=self.cleaned_data[password_field_name] if usable else None)


class AdminPasswordForm(PasswordSetThroughService, AdminPasswordChangeForm):
    """The admin's "change password" form for a user."""


class OwnPasswordChangeForm(PasswordSetThroughService, admin_forms.AdminPasswordChangeForm):
    """The admin's "change password" page, where a staff member changes their own password."""
