"""Settings as a newcomer meets them: `.env` copied from `.env.example`, production's refusals, the image build."""

import json
import os
import re
import secrets
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Prints the settings that name files, as the process sees them.
SHOW_PATHS = (
    "import json, django; django.setup(); from django.conf import settings as s; print(json.dumps({"
    "'var': str(s.VAR_DIR), 'database': s.DATABASES['default']['NAME'], 'cache': s.CACHES['default']['LOCATION'],"
    "'beat': s.CELERY_BEAT_SCHEDULE_FILENAME, 'mail': s.EMAIL_FILE_PATH,"
    "'broker': s.CELERY_BROKER_TRANSPORT_OPTIONS['data_folder_in']}))"
)


def env_example() -> dict[str, str]:
    """`.env.example` as `.env` would hold it after `cp .env.example .env`."""
    pairs = re.findall(r"^([A-Z_]+)=(.*)$", (ROOT / ".env.example").read_text(), re.MULTILINE)
    return dict(pairs)


def clean_environ(**extra: str) -> dict[str, str]:
    """This process's environment without any setting Studycircle reads, plus `extra`."""
    ours = set(env_example()) | {"DJANGO_SETTINGS_MODULE"}
    return {**{k: v for k, v in os.environ.items() if k not in ours}, "PYTHONPATH": str(ROOT), **extra}


def run_python(code: str, *, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, check=False)


def test_relative_paths_resolve_from_the_project_root_whatever_the_working_folder(tmp_path):
    # .env.example's paths are relative, as a copied .env holds them...
    values = env_example()
    assert values["STUDYCIRCLE_VAR_DIR"] == "var"
    assert values["DATABASE_URL"] == "sqlite:///var/studycircle.sqlite3"
    assert values["CELERY_BEAT_SCHEDULE_FILENAME"] == "var/celerybeat-schedule"
    # ...so relative paths (here to a temporary folder, to write nothing into the project) read from elsewhere.
    state = tmp_path / "state"
    relative = os.path.relpath(state, ROOT)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    environment = clean_environ(
        STUDYCIRCLE_VAR_DIR=relative,
        DATABASE_URL=f"sqlite:///{relative}/studycircle.sqlite3",
        CELERY_BEAT_SCHEDULE_FILENAME=f"{relative}/celerybeat-schedule",
        EMAIL_URL=f"filemail:///{relative}/mail",
        DJANGO_SETTINGS_MODULE="config.settings.local",
    )

    result = run_python(SHOW_PATHS, env=environment, cwd=elsewhere)

    assert result.returncode == 0, result.stderr[-2000:]
    assert {key: os.path.normpath(value) for key, value in json.loads(result.stdout).items()} == {
        "var": str(state),
        "database": str(state / "studycircle.sqlite3"),
        "cache": str(state / "cache"),
        "beat": str(state / "celerybeat-schedule"),
        "mail": str(state / "mail"),
        "broker": str(state / "broker"),
    }
    assert list(elsewhere.iterdir()) == []


def test_absolute_paths_are_kept(tmp_path):
    environment = clean_environ(
        STUDYCIRCLE_VAR_DIR=str(tmp_path / "state"),
        DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3",
        EMAIL_URL=f"filemail:///{tmp_path}/mail",
        DJANGO_SETTINGS_MODULE="config.settings.local",
    )

    result = run_python(SHOW_PATHS, env=environment, cwd=tmp_path)

    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout) == {
        "var": str(tmp_path / "state"),
        "database": str(tmp_path / "db.sqlite3"),
        "cache": str(tmp_path / "state" / "cache"),
        "beat": str(tmp_path / "state" / "celerybeat-schedule"),
        "mail": str(tmp_path / "mail"),
        "broker": str(tmp_path / "state" / "broker"),
    }


def production(secret_key: str | None, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """`manage.py <args>` under production settings with this secret key (None: unset)."""
    environment = clean_environ(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_ALLOWED_HOSTS="circle.example.org",
        STUDYCIRCLE_VAR_DIR=str(tmp_path),
    )
    if secret_key is not None:
        environment["DJANGO_SECRET_KEY"] = secret_key
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize(
    ("secret_key", "problem"),
    [
        (None, "DJANGO_SECRET_KEY is not set."),
        ("", "DJANGO_SECRET_KEY is not set."),
        (env_example()["DJANGO_SECRET_KEY"], "DJANGO_SECRET_KEY is a placeholder."),
        ("change-me-before-exposing-this-to-anyone", "DJANGO_SECRET_KEY is a placeholder."),
        ("django-insecure-" + secrets.token_urlsafe(50), "DJANGO_SECRET_KEY is a placeholder."),
        (secrets.token_hex(12), "DJANGO_SECRET_KEY is too short or too simple (24 characters)."),
        ("ab" * 40, "DJANGO_SECRET_KEY is too short or too simple (80 characters)."),
    ],
    ids=["unset", "empty", "env-example", "old-compose-default", "django-insecure", "short", "two-letters"],
)
def test_production_refuses_to_start_with_a_missing_placeholder_or_short_secret_key(tmp_path, secret_key, problem):
    result = production(secret_key, tmp_path, "check")

    assert result.returncode == 1
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line == (
        f"django.core.exceptions.ImproperlyConfigured: {problem} Set DJANGO_SECRET_KEY to 50 or more random "
        "characters, the same on every web node, worker and beat, e.g. the output of: "
        "python3 -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )
    if secret_key:
        assert secret_key not in result.stderr


def test_production_starts_with_a_generated_secret_key(tmp_path):
    result = production(secrets.token_urlsafe(50), tmp_path, "check")

    assert (result.returncode, result.stdout.strip()) == (0, "System check identified no issues (0 silenced)."), (
        result.stderr[-2000:]
    )


def test_image_build_collectstatic_needs_no_real_secret_key(tmp_path):
    """The Dockerfile's collectstatic line, run as written (dry run: nothing is written into the project)."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    (line,) = re.findall(r"^RUN (.*collectstatic.*?)(?: \\|$)", dockerfile, re.MULTILINE)
    words = shlex.split(line)
    assignments = dict(word.split("=", 1) for word in words if re.fullmatch(r"[A-Z_]+=.*", word))
    command = [word for word in words if word not in {f"{k}={v}" for k, v in assignments.items()}]
    assert command[:3] == ["python", "manage.py", "collectstatic"]
    environment = clean_environ(
        DJANGO_SETTINGS_MODULE="config.settings.production", STUDYCIRCLE_VAR_DIR=str(tmp_path), **assignments
    )
    assert len(environment.get("DJANGO_SECRET_KEY", "")) < 50  # not a real key: exempt, not accepted

    result = subprocess.run(
        [sys.executable, *command[1:], "--dry-run"], cwd=ROOT, env=environment, capture_output=True, text=True
    )

    assert result.returncode == 0, result.stderr[-2000:]
    assert "static files copied" in result.stdout


@pytest.mark.django_db
def test_postgresql_connections_do_not_jit_compile_queries():
    """JIT compiling took most of a member's search once the planner's estimate passed jit_above_cost."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


@pytest.mark.parametrize(
    ("switch", "expected"),
    [
        (None, {"server_side_binding": True, "prepare_threshold": 5}),
        ("true", {"server_side_binding": True, "prepare_threshold": 5}),
        # A pooler in transaction mode hands each transaction another server connection, where the statements
        # prepared on the last one are unknown: the switch sends every query unprepared, as Django's default does.
        ("false", {}),
    ],
)
def test_postgresql_prepares_statements_unless_told_not_to(tmp_path, switch, expected):
    """Planning the visibility rule's joins cost PostgreSQL more than running them (docs/benchmarks.md, Load)."""
    extra = {"DATABASE_PREPARED_STATEMENTS": switch} if switch is not None else {}
    environment = clean_environ(
        DATABASE_URL="postgres://studycircle:secret@db.invalid:5432/studycircle",
        DJANGO_SETTINGS_MODULE="config.settings.local",
        STUDYCIRCLE_VAR_DIR=str(tmp_path / "var"),
        **extra,
    )
    show = (
        "import json, django; django.setup(); from django.conf import settings as s;"
        "o = s.DATABASES['default']['OPTIONS'];"
        "print(json.dumps({k: o[k] for k in ('server_side_binding', 'prepare_threshold') if k in o}))"
    )

    result = run_python(show, env=environment, cwd=ROOT)

    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == expected


# A request that claims https through X-Forwarded-Proto, through production's SecurityMiddleware.
CLAIMS_HTTPS = (
    "import json, django; django.setup(); from django.conf import settings as s;"
    "from django.http import HttpResponse; from django.test import RequestFactory;"
    "from django.middleware.security import SecurityMiddleware;"
    "request = RequestFactory().get('/sessions/', HTTP_HOST='circle.example.org', HTTP_X_FORWARDED_PROTO='https');"
    "response = SecurityMiddleware(lambda r: HttpResponse('page'))(request);"
    "print(json.dumps({'header': getattr(s, 'SECURE_PROXY_SSL_HEADER', None), 'secure': request.is_secure(),"
    "'status': response.status_code, 'location': response.get('Location')}))"
)


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        # No proxy of ours: anyone could send the header, so it is not believed and the TLS redirect applies.
        ("0", {"header": None, "secure": False, "status": 301, "location": "https://circle.example.org/sessions/"}),
        # Behind our TLS proxy: the proxy's header says the request came over https.
        ("1", {"header": ["HTTP_X_FORWARDED_PROTO", "https"], "secure": True, "status": 200, "location": None}),
    ],
    ids=["no-proxy", "one-proxy"],
)
def test_production_believes_x_forwarded_proto_only_behind_a_trusted_proxy(tmp_path, count, expected):
    environment = clean_environ(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_ALLOWED_HOSTS="circle.example.org",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        STUDYCIRCLE_VAR_DIR=str(tmp_path),
        TRUSTED_PROXY_COUNT=count,
    )

    result = run_python(CLAIMS_HTTPS, env=environment, cwd=ROOT)

    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout) == expected
