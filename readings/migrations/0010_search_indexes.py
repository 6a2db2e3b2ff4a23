"""Full-text search documents for passages and notes (readings/search.py), on PostgreSQL only.

Each table gets a stored generated column, `search_document` =
`to_tsvector('english', body)`, kept by PostgreSQL itself on every write, and a
GIN index on it: a search matches through the index and ranks from the stored
vector, never parsing a body again. The models do not declare the column (Django
never writes it); readings/search.py reads it. SQLite (the embedded default)
searches without it.
"""

from django.db import migrations

TABLES = {"readings_passage": "passage_search_document", "readings_note": "note_search_document"}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, index in TABLES.items():
        schema_editor.execute(
            f"ALTER TABLE {table} ADD COLUMN search_document tsvector "
            "GENERATED ALWAYS AS (to_tsvector('english'::regconfig, COALESCE(body, ''::text))) STORED"
        )
        schema_editor.execute(f"CREATE INDEX {index} ON {table} USING gin (search_document)")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, index in TABLES.items():
        schema_editor.execute(f"DROP INDEX IF EXISTS {index}")
        schema_editor.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS search_document")


class Migration(migrations.Migration):
    dependencies = [("readings", "0009_text_import")]

    operations = [migrations.RunPython(create, drop)]
