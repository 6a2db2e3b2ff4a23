"""The constraints that keep threads whole, once 0005 has filled `root` and `hidden_root`."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('readings', '0005_fill_note_threads'),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='note',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('parent__isnull', True), ('root__isnull', True)), models.Q(('parent__isnull', False), ('root__isnull', False)), _connector='OR'), name='note_reply_has_root'),
        ),
        migrations.AddConstraint(
            model_name='note',
            constraint=models.CheckConstraint(condition=models.Q(('hidden', True), ('hidden_root__isnull', True), _negated=True), name='note_hidden_in_subtree'),
        ),
    ]
