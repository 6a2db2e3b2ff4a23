"""The README's API walk, run as a reader runs it: its shell block, as written, against a live server."""

import json
import os
import re
import shutil
import subprocess
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from sessions_app.models import RSVP, Membership, Series

from .conftest import service_unavailable
from .reminders.realparts import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

HEADING = "## A first walk through the API\n"


def walk() -> str:
    """The first ```sh block of the README's API walk section: the walk itself."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split(HEADING, 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^```sh\n(.*?)^```$", section, re.MULTILINE | re.DOTALL)[0]


def test_the_walk_defines_everything_it_uses():
    block = walk()
    defined = set(re.findall(r"^\s*([A-Z_][A-Z0-9_]*)=", block, re.MULTILINE))
    used = set(re.findall(r"\$\{?([A-Z_][A-Z0-9_]*)", block))

    assert used - defined - {"RANDOM"} == set()
    assert "<" not in re.sub(r"^\s*#.*$", "", block, flags=re.MULTILINE)  # no <placeholder> left to fill in
    assert "jq" not in block.split()


def test_the_readmes_api_walk_runs_as_written_against_a_live_server(live_server):
    for tool in ("curl", "date"):
        if not shutil.which(tool):
            service_unavailable(tool, "the README's walk uses it")
    call_command("demo", verbosity=0)  # what `make run` loads
    environment = {
        **{key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"},  # as a reader has it
        "SITE": live_server.url,
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,  # the server's, so the demo passwords agree
    }

    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", walk()],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    announced, accepted, rsvp = result.stdout.splitlines()
    group_id, link = re.fullmatch(r"group (\d+); the link to share: (\S+)", announced).groups()
    assert re.fullmatch(re.escape(settings.SITE_URL) + r"/join/[\w-]+/", link)
    assert json.loads(accepted) == {"group": int(group_id), "group_name": "Thursday Readers", "role": "member"}
    assert json.loads(rsvp) == {"status": "going", "rsvp_counts": {"going": 1, "maybe": 0, "declined": 0}}

    roles = dict(Membership.objects.filter(group_id=group_id).values_list("user__username", "role"))
    (newcomer,) = set(roles) - {"organizer", "member1"}
    assert roles == {"organizer": "organizer", "member1": "member", newcomer: "member"}
    series = Series.objects.get(group_id=group_id)
    starts = [s.starts_at.astimezone(ZoneInfo("America/New_York")) for s in series.sessions.order_by("starts_at")]
    assert [(moment.strftime("%A %H:%M")) for moment in starts] == ["Thursday 19:00"] * 4
    new_york_today = timezone.now().astimezone(ZoneInfo("America/New_York")).date()
    assert timedelta(days=1) <= starts[0].date() - new_york_today <= timedelta(days=7)
    assert list(RSVP.objects.filter(session__series=series).values_list("user__username", "status")) == [
        (newcomer, "going")
    ]
