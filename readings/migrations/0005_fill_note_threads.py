"""Fill `root` and `hidden_root` for existing notes, and repair what the old one-level propagation left.

Every reply gets its root's visibility and passage (a reply to a reply could
still be `group` under a `private` root, or sit on the passage its thread was
moved away from), and a note in a private thread is no longer marked hidden.
Reversing changes nothing: the repaired visibilities are the only correct ones.
"""

from django.db import migrations

BATCH = 2000


def fill_threads(apps, schema_editor):
    Note = apps.get_model("readings", "Note")
    rows = {
        pk: {"parent": parent, "visibility": visibility, "passage": passage, "hidden": hidden, "by": by}
        for pk, parent, visibility, passage, hidden, by in Note.objects.values_list(
            "pk", "parent_id", "visibility", "passage_id", "hidden", "hidden_by_id"
        ).iterator(chunk_size=BATCH)
    }

    def path_up(pk):
        """The ids from `pk` up to its thread's root, `pk` first."""
        path = [pk]
        while rows[path[-1]]["parent"] is not None:
            path.append(rows[path[-1]]["parent"])
        return path

    changed = []
    for pk, row in rows.items():
        path = path_up(pk)
        root = rows[path[-1]]
        private = root["visibility"] == "private"
        hidden_above = [] if private else [one for one in path if rows[one]["hidden"]]
        values = {
            "root_id": path[-1] if row["parent"] is not None else None,
            "visibility": root["visibility"],
            "passage_id": root["passage"],
            "hidden": row["hidden"] and not private,
            "hidden_root_id": hidden_above[-1] if hidden_above else None,
        }
        current = {"root_id": None, "visibility": row["visibility"], "passage_id": row["passage"]}
        current.update(hidden=row["hidden"], hidden_root_id=None)
        if values != current:
            changed.append(Note(pk=pk, hidden_by_id=row["by"] if values["hidden"] else None, **values))
    Note.objects.bulk_update(
        changed, ["root", "visibility", "passage", "hidden", "hidden_by", "hidden_root"], batch_size=BATCH
    )


class Migration(migrations.Migration):

    dependencies = [
        ('readings', '0004_note_threads'),
    ]

    operations = [
        migrations.RunPython(fill_threads, migrations.RunPython.noop, elidable=True),
    ]
