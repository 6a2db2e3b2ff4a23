"""A client generated from /api/v1/schema/ works: it imports, and it walks the API against a live server.

Members pull packs with whatever client their language generates from the
schema; openapi-python-client stands in for them. The client is generated
into a temporary folder (no network needed), imported, and used for the
journey a member and an organizer make: token, group, session, text and its
passages, reading, question, note, invitation and the pack. Every response is
parsed into the generated models, with `raise_on_unexpected_status`, so a
status the schema does not declare, a null it does not allow or a field it
does not describe fails here.
"""

import importlib
import json
import pkgutil
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.utils import timezone

from .factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

GENERATOR = Path(sys.executable).with_name("openapi-python-client")
PACKAGE = "studycircle_client"
UTC_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
ESSAY = """On Co-operation

a) The Question

Whatever the party said, the soviets decided.

The peasants took the land, and the revolution held.
"""


@pytest.fixture
def client_package(live_server, tmp_path):
    """The generated package, importable for the test's duration and forgotten afterwards."""
    schema = requests.get(f"{live_server.url}/api/v1/schema/", params={"format": "json"}, timeout=30)
    schema.raise_for_status()
    (tmp_path / "schema.json").write_bytes(schema.content)
    # No post hooks: the generator would otherwise run ruff over the code it writes.
    (tmp_path / "config.json").write_text(json.dumps({"package_name_override": PACKAGE, "post_hooks": []}))
    generated = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(tmp_path / "schema.json"),
            "--config",
            str(tmp_path / "config.json"),
            "--output-path",
            str(tmp_path / PACKAGE),
            "--meta",
            "none",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = generated.stdout + generated.stderr
    assert generated.returncode == 0, output
    assert "Warning" not in output, output
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def test_every_module_of_the_generated_client_imports(client_package):
    broken = {}
    for module in pkgutil.walk_packages(client_package.__path__, PACKAGE + "."):
        try:
            importlib.import_module(module.name)
        except Exception as error:  # every module that fails is listed, not just the first
            broken[module.name] = f"{type(error).__name__}: {error}"

    assert broken == {}


def _as_sent(value):
    """The JSON the server sent, with its UTC times (`…Z`) written as the models write them (`…+00:00`)."""
    if isinstance(value, dict):
        return {key: _as_sent(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_sent(item) for item in value]
    if isinstance(value, str) and UTC_TIME.fullmatch(value):
        return value[:-1] + "+00:00"
    return value


class Walk:
    """Calls operations of the generated client by tag and name, and checks what every answer parses into."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.package = importlib.import_module(PACKAGE)
        self.models = importlib.import_module(f"{PACKAGE}.models")
        self.types = importlib.import_module(f"{PACKAGE}.types")
        self.clients = [self.package.Client(base_url=base_url, raise_on_unexpected_status=True)]

    @property
    def client(self):
        return self.clients[-1]

    def sign_in(self, username: str) -> None:
        token = self.call("auth", "auth_token_create", body=self.models.TokenInputRequest(username, PASSWORD))
        self.clients.append(
            self.package.AuthenticatedClient(
                base_url=self.base_url, token=token.token, prefix="Token", raise_on_unexpected_status=True
            )
        )

    def close(self) -> None:
        # A kept-alive connection keeps a live-server thread, and its database connection, open.
        for client in self.clients:
            client.get_httpx_client().close()

    def call(self, tag: str, operation: str, status: int = 200, **kwargs):
        """The parsed answer; it must say exactly what the server sent, nothing lost or left over."""
        module = importlib.import_module(f"{PACKAGE}.api.{tag}.{operation}")
        response = module.sync_detailed(client=self.client, **kwargs)
        assert response.status_code == status, response.content
        parsed = response.parsed
        sent = json.loads(response.content)
        if isinstance(parsed, list):
            assert [item.to_dict() for item in parsed] == _as_sent(sent)
        else:
            assert parsed.to_dict() == _as_sent(sent)
            _assert_fully_described(parsed)
        return parsed


def _assert_fully_described(model) -> None:
    """No field the schema leaves out: a model keeps those in `additional_properties`."""
    assert getattr(model, "additional_properties", {}) == {}, type(model).__name__
    for value in (getattr(model, field.name) for field in type(model).__attrs_attrs__):
        for item in value if isinstance(value, list) else [value]:
            if hasattr(item, "additional_properties"):
                _assert_fully_described(item)


@pytest.fixture
def walk(client_package, live_server):
    walk = Walk(live_server.url)
    yield walk
    walk.close()


def test_generated_client_walks_the_api(walk):
    UserFactory(username="ada", display_name="Ada")
    UserFactory(username="bea", display_name="Bea")
    m = walk.models

    walk.sign_in("ada")
    group = walk.call(
        "groups", "groups_create", 201, body=m.GroupInputRequest(name="Thursday Circle", timezone="Europe/Berlin")
    )
    assert (group.name, group.my_role, group.timezone) == ("Thursday Circle", m.RoleEnum.ORGANIZER, "Europe/Berlin")
    assert [g.id for g in walk.call("groups", "groups_list").results] == [group.id]
    invitation = walk.call(
        "groups", "groups_invitations_create", 201, id=group.id, body=m.InvitationInputRequest(max_uses=5)
    )
    assert (invitation.revoked_at, invitation.use_count, invitation.max_uses) == (None, 0, 5)

    starts = timezone.now().replace(microsecond=0) + timedelta(days=7)
    session = walk.call(
        "sessions",
        "sessions_create",
        201,
        body=m.SessionInputRequest(
            group=group.id,
            title="Week one",
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            timezone="Europe/Berlin",
        ),
    )
    assert (session.title, session.my_rsvp, session.series, session.occurrence_index) == ("Week one", None, None, None)
    text = walk.call(
        "texts",
        "texts_create",
        201,
        body=m.TextInputRequest(group=group.id, title="On Co-operation", content=ESSAY),
    )
    passages = walk.call("texts", "texts_passages_list", id=text.id).results
    assert [p.position for p in passages] == list(range(1, text.passage_count + 1))
    reading = walk.call(
        "sessions",
        "sessions_readings_create",
        201,
        session_pk=session.id,
        body=m.AssignmentInputRequest(text=text.id, start_passage=passages[1].id, end_passage=passages[-1].id),
    )
    assert (reading.start_passage.id, reading.end_passage.id) == (passages[1].id, passages[-1].id)
    question = walk.call(
        "sessions",
        "sessions_questions_create",
        201,
        session_pk=session.id,
        body=m.QuestionInputRequest(prompt="Who decided?", passages=[passages[2].id], facilitator_notes="Soviets."),
    )
    assert question.state == m.QuestionStateEnum.ACCEPTED

    # The member joins through the invitation and takes part.
    walk.sign_in("bea")
    joined = walk.call("invitations", "invitations_accept_create", 201, token=invitation.token)
    assert (joined.group, joined.role) == (group.id, m.RoleEnum.MEMBER)
    rsvp = walk.call("sessions", "sessions_rsvp_update", id=session.id, body=m.RSVPInputRequest(m.RSVPStatusEnum.GOING))
    assert rsvp.rsvp_counts.going == 1
    assert [s.my_rsvp for s in walk.call("sessions", "sessions_list", group=group.id).results] == [
        m.RSVPStatusEnum.GOING
    ]
    questions = walk.call("sessions", "sessions_questions_list", session_pk=session.id).results
    assert [(q.prompt, q.facilitator_notes) for q in questions] == [("Who decided?", walk.types.UNSET)]
    note = walk.call(
        "notes",
        "notes_create",
        201,
        body=m.NoteInputRequest(
            passage=passages[2].id,
            body="The *soviets*.",
            visibility=m.NoteVisibilityEnum.GROUP,
            selector=m.SelectorRequest(start=4, end=11, exact=passages[2].body[4:11]),
            question=question.id,
            tags=["power"],
        ),
    )
    assert (note.body_html, note.author.name, note.tags, note.parent) == (
        "<p>The <em>soviets</em>.</p>",
        "Bea",
        ["power"],
        None,
    )
    edited = walk.call(
        "notes", "notes_partial_update", id=note.id, body=m.PatchedNoteUpdateRequest(body="The soviets.")
    )
    assert edited.body == "The soviets."
    assert [n.id for n in walk.call("notes", "notes_list", session=session.id).results] == [note.id]

    pack = walk.call("sessions", "sessions_pack_retrieve", session_pk=session.id)
    assert (pack.session.title, pack.group.name) == ("Week one", "Thursday Circle")
    [pack_reading] = pack.readings
    noted = [p for p in pack_reading.passages if p.notes]
    assert [(p.id, [n.body for n in p.notes]) for p in noted] == [(passages[2].id, ["The soviets."])]
    assert [q.prompt for q in pack.questions] == ["Who decided?"]
    me = walk.call("me", "me_retrieve")
    assert (me.username, me.display_name) == ("bea", "Bea")
