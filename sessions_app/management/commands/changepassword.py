"""`manage.py changepassword`: Django's command (its prompts and password checks), which also revokes the
person's API tokens (`api_tokens_revoke_all`, as `user_password_set` does for every form of ours), in the same
transaction as the new password.

It replaces django.contrib.auth's command because sessions_app comes before it in INSTALLED_APPS.
"""

import getpass

from django.contrib.auth.management.commands import changepassword
from django.db import transaction

from sessions_app.models import User
from sessions_app.services.api_tokens import api_tokens_revoke_all


class Command(changepassword.Command):
    help = "Change a user's password; every API token the user holds is revoked."

    def handle(self, *args, **options):
        database = options["database"]
        with transaction.atomic(using=database):
            changed = super().handle(*args, **options)  # raises CommandError when it changed nothing
            username = options["username"] or getpass.getuser()
            user = User._default_manager.using(database).get(**{User.USERNAME_FIELD: username})
            api_tokens_revoke_all(user=user)
        return f"{changed}; their API tokens are revoked."
