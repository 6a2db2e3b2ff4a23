"""Copy each thread root's author, and each hidden root's author, onto the notes under them.

The notes visibility rule then reads one row (`thread_author`, `hidden_author`,
and `visibility`, which a reply already shares with its root) instead of looking
the root up. Existing rows are filled from their root and hidden root, at any
depth (`root` and `hidden_root` point at the top of the thread and of the hidden
subtree directly); a reply whose audience still differed from its root's takes
the root's, as the note services have always given it.

On PostgreSQL the database then keeps the copies honest: a reply's
(root, visibility, thread author) must be its root's (id, visibility, author),
and a hidden note's (hidden root, hidden author) its hidden root's (id, author),
checked at commit, so the services may write a thread in any order inside one
transaction. SQLite (`make run`) relies on the services alone.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import F, OuterRef, Q, Subquery

BATCH = 2000

FOREIGN_KEYS = [
    (
        "note_id_visibility_author_key",
        "UNIQUE (id, visibility, author_id)",
        "note_thread_copies_its_root",
        "FOREIGN KEY (root_id, visibility, thread_author_id) REFERENCES readings_note (id, visibility, author_id)",
    ),
    (
        "note_id_author_key",
        "UNIQUE (id, author_id)",
        "note_hidden_author_copies_its_hidden_root",
        "FOREIGN KEY (hidden_root_id, hidden_author_id) REFERENCES readings_note (id, author_id)",
    ),
]


def fill_copies(apps, schema_editor):
    Note = apps.get_model("readings", "Note")
    author_of = Note.objects.filter(pk=OuterRef("root_id")).values("author_id")[:1]
    Note.objects.filter(root__isnull=True).update(thread_author=F("author"))
    Note.objects.filter(root__isnull=False).update(thread_author=Subquery(author_of))
    hider = Note.objects.filter(pk=OuterRef("hidden_root_id")).values("author_id")[:1]
    Note.objects.filter(hidden_root__isnull=False).update(hidden_author=Subquery(hider))
    # Replies that disagree with their root's audience (none that the services wrote) take it; one in a
    # private thread is shown to nobody else, so nothing of it stays hidden.
    drifted = list(
        Note.objects.filter(root__isnull=False)
        .exclude(visibility=F("root__visibility"))
        .values_list("pk", "root__visibility")
        .iterator(chunk_size=BATCH)
    )
    for pk, visibility in drifted:
        fields = {"visibility": visibility}
        if visibility == "private":
            fields.update(hidden=False, hidden_by=None, hidden_root=None, hidden_author=None)
        Note.objects.filter(pk=pk).update(**fields)
    if drifted:
        # A note hidden under a note of a now private thread is not hidden any more either.
        Note.objects.filter(hidden_root__visibility="private").update(
            hidden=False, hidden_by=None, hidden_root=None, hidden_author=None
        )
    if schema_editor.connection.vendor == "postgresql":
        # Check the rows' deferred foreign keys now: PostgreSQL alters no table with checks pending.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        schema_editor.execute("SET CONSTRAINTS ALL DEFERRED")


def add_foreign_keys(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for unique, columns, foreign_key, reference in FOREIGN_KEYS:
        schema_editor.execute(f"ALTER TABLE readings_note ADD CONSTRAINT {unique} {columns}")
        schema_editor.execute(
            f"ALTER TABLE readings_note ADD CONSTRAINT {foreign_key} {reference} DEFERRABLE INITIALLY DEFERRED"
        )


def drop_foreign_keys(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for unique, _columns, foreign_key, _reference in FOREIGN_KEYS:
        schema_editor.execute(f"ALTER TABLE readings_note DROP CONSTRAINT IF EXISTS {foreign_key}")
        schema_editor.execute(f"ALTER TABLE readings_note DROP CONSTRAINT IF EXISTS {unique}")


class Migration(migrations.Migration):

    dependencies = [
        ("readings", "0013_note_mentions"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="note",
            name="thread_author",
            field=models.ForeignKey(
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="note",
            name="hidden_author",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunPython(fill_copies, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="note",
            name="thread_author",
            field=models.ForeignKey(
                editable=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddConstraint(
            model_name="note",
            constraint=models.CheckConstraint(
                condition=Q(root__isnull=False) | Q(thread_author=F("author")),
                name="note_top_level_leads_its_thread",
            ),
        ),
        migrations.AddConstraint(
            model_name="note",
            constraint=models.CheckConstraint(
                condition=Q(hidden_root__isnull=True, hidden_author__isnull=True)
                | Q(hidden_root__isnull=False, hidden_author__isnull=False),
                name="note_hidden_author_with_hidden_root",
            ),
        ),
        migrations.RunPython(add_foreign_keys, drop_foreign_keys),
    ]
