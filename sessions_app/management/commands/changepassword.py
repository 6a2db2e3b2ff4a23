"""`manage.py changepassword`: Django's command, but the password is set by `user_password_set`,
which also revokes the person's API tokens (Django's own command saves the password and nothing else).

It replaces django.contrib.auth's command because sessions_app comes before it in INSTALLED_APPS.
"""

import getpass

from django.contrib.auth.management.commands import changepassword
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from sessions_app.models import User
from sessions_app.services.accounts import user_password_set

MAX_TRIES = 3


class Command(changepassword.Command):
    help = "Change a user's password; every API token the user holds is revoked."

    def handle(self, *args, **options):
        username = options["username"] or getpass.getuser()
        try:
            user = User._default_manager.using(options["database"]).get(**{User.USERNAME_FIELD: username})
        except User.DoesNotExist:
            raise CommandError(f"user '{username}' does not exist") from None

        self.stdout.write(f"Changing password for user '{user}'")
        for _ in range(MAX_TRIES):
            password = self._get_pass()
            if password != self._get_pass("Password (again): "):
                self.stdout.write("Passwords do not match. Please try again.")
                continue
            try:
                validate_password(password, user)
            except ValidationError as error:
                self.stderr.write("\n".join(error.messages))
                continue
            user_password_set(user=user, password=password)
            return f"Password changed successfully for user '{user}'; their API tokens are revoked."
        raise CommandError(f"Aborting password change for user '{user}' after {MAX_TRIES} attempts")
