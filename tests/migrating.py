"""Running migrations inside a test: move an app back to write rows under an old schema, then forward again."""

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate(target: tuple[str, str] | None):
    """Move the database to `target` (an app and migration; None: every app to its latest).

    Returns the models as they were there (`.get_model(app, name)`).
    """
    executor = MigrationExecutor(connection)
    targets = [target] if target else executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps
