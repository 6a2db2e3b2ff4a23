"""Move DRF's plaintext tokens (rest_framework.authtoken, no longer installed) into hashed ApiTokens.

Their holders keep working: the same key authenticates, now by its SHA-256.
Each gets the usual expiry counted from this migration, and the plaintext
table is dropped so no key stays readable in the database.
"""

import hashlib
from datetime import UTC, timedelta

from django.conf import settings
from django.db import migrations
from django.utils import timezone
from django.utils.dateparse import parse_datetime

PLAINTEXT_TABLE = "authtoken_token"


def _aware(value):
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is None:
        return timezone.now()
    return value if timezone.is_aware(value) else value.replace(tzinfo=UTC)


def hash_plaintext_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if PLAINTEXT_TABLE not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("sessions_app", "ApiToken")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, user_id, created FROM {schema_editor.quote_name(PLAINTEXT_TABLE)}")
        rows = cursor.fetchall()
    expires_at = timezone.now() + timedelta(days=settings.API_TOKEN_DAYS)
    ApiToken.objects.bulk_create(
        ApiToken(
            user_id=user_id,
            name="API token (made before tokens were hashed)",
            prefix=key[:8],
            digest=hashlib.sha256(key.encode()).hexdigest(),
            created_at=_aware(created),
            expires_at=expires_at,
        )
        for key, user_id, created in rows
    )
    schema_editor.execute(schema_editor.sql_delete_table % {"table": schema_editor.quote_name(PLAINTEXT_TABLE)})


class Migration(migrations.Migration):
    dependencies = [
        ("sessions_app", "0004_api_tokens"),
    ]

    operations = [
        # Not reversible in substance: the plaintext keys are gone; going back leaves no table to fill.
        migrations.RunPython(hash_plaintext_tokens, migrations.RunPython.noop),
    ]
