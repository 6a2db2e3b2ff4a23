"""Render again the notes the old renderer turned into something a pack must not hold.

The renderer now makes images links with their text, keeps only http(s) and
mailto links (any other link becomes its text) and drops control characters
(readings/rendering.py). Notes written before kept an `<img>` to wherever
their author pointed it (a tracking pixel in every page, PDF and e-book that
shows them) or links to relative addresses; their stored `body_html` is
rendered again from their Markdown with today's renderer. Reversing changes
nothing: the old HTML is what this removes.
"""

from django.db import migrations
from django.db.models import Q

from readings.rendering import render_markdown

BATCH = 500


def rerender_note_html(notes) -> None:
    """Render `body_html` again for the notes (a queryset of Note) that hold an image or a link."""
    touched = notes.filter(
        Q(body_html__contains="<img") | Q(body_html__contains="<a ") | Q(body__contains="](")
    ).filter(deleted_at__isnull=True)
    batch = []
    for note in touched.only("pk", "body").order_by("pk").iterator(chunk_size=BATCH):
        note.body_html = render_markdown(note.body)
        batch.append(note)
        if len(batch) == BATCH:
            notes.model.objects.bulk_update(batch, ["body_html"])
            batch = []
    notes.model.objects.bulk_update(batch, ["body_html"])


def forwards(apps, schema_editor):
    rerender_note_html(apps.get_model("readings", "Note").objects.all())


class Migration(migrations.Migration):

    dependencies = [
        ('readings', '0006_note_thread_constraints'),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True),
    ]
