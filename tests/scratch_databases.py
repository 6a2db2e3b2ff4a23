"""Databases a test makes next to its test database on the same PostgreSQL server, and drops again.

With pg_dump and pg_restore, as an administrator would use them: a test can
back the test database up, restore it into a new database, or start a new
database with the schema only (an empty instance at the same migrations).
"""

import os
import subprocess
import uuid
from pathlib import Path
from urllib.parse import quote


class ScratchDatabases:
    def __init__(self, settings_dict: dict) -> None:
        self.source = settings_dict["NAME"]
        self.host = settings_dict["HOST"] or "127.0.0.1"
        self.port = str(settings_dict["PORT"] or 5432)
        self.user = settings_dict["USER"] or "postgres"
        self.password = settings_dict["PASSWORD"] or ""
        self.made: list[str] = []

    def _admin(self):
        import psycopg

        return psycopg.connect(
            dbname="postgres",
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password or None,
            autocommit=True,
        )

    def _env(self) -> dict[str, str]:
        return {**os.environ, "PGPASSWORD": self.password}

    def _connection_args(self) -> list[str]:
        return ["--host", self.host, "--port", self.port, "--username", self.user, "--no-password"]

    def create(self, label: str) -> str:
        name = f"{self.source}_{label}_{uuid.uuid4().hex[:8]}"[:63]
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.made.append(name)
        return name

    def url(self, name: str) -> str:
        auth = quote(self.user) + (":" + quote(self.password) if self.password else "")
        return f"postgres://{auth}@{self.host}:{self.port}/{name}"

    def dump(self, path: Path, *, database: str | None = None, schema_only: bool = False) -> Path:
        """`pg_dump --format=custom` of `database` (the test database by default) into `path`."""
        args = ["pg_dump", *self._connection_args(), "--format=custom", "--file", str(path)]
        args += ["--schema-only"] if schema_only else []
        self._run([*args, database or self.source])
        return path

    def restore(self, path: Path, database: str) -> None:
        """`pg_restore` of a custom-format dump into the (new, empty) `database`."""
        self._run(
            ["pg_restore", *self._connection_args(), "--no-owner", "--exit-on-error", "--dbname", database, str(path)]
        )

    def _run(self, args: list[str]) -> None:
        result = subprocess.run(args, env=self._env(), capture_output=True, text=True, timeout=300, check=False)
        assert result.returncode == 0, f"{args[0]} failed: {result.stderr[-3000:]}"

    def drop_all(self) -> None:
        with self._admin() as conn:
            for name in self.made:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.made.clear()
