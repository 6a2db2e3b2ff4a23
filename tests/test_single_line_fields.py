"""Single-line fields (titles, names, places, tags) refuse control characters everywhere input comes in.

A line break in a session title used to be stored, and then broke the
session's .ics (500) and its reminders. The rule lives in one validator
(`core.validators.validate_single_line`), set on the model fields
(forms over models and the admin), on the API's input fields and on the
pages' forms; text that may span lines refuses the other control characters.
"""

import importlib
import inspect
import pkgutil

import pytest
from django import forms
from django.apps import apps
from django.db import models
from django.urls import get_resolver
from rest_framework import serializers

from core.validators import single_line, validate_multiline_text, validate_single_line
from readings.api import serializers as readings_serializers
from readings.models import DiscussionQuestion, Note, Text
from readings.services.assignments import assignment_create
from readings.services.importing import text_import
from reminders.api import serializers as reminders_serializers
from sessions_app.api import serializers as sessions_serializers
from sessions_app.models import Series, Session, StudyGroup, User
from sessions_app.services.groups import invitation_create

from .factories import PASSWORD
from .readings.conftest import SAMPLE

pytestmark = pytest.mark.django_db

LINE_BREAK = "Keep this on one line: it contains a line break; remove it (and any other control character)."
TAB = "Keep this on one line: it contains a tab; remove it (and any other control character)."
NOT_A_USERNAME = "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."
ESCAPE = "Keep this on one line: it contains the control character U+001B; remove it (and any other control character)."

G = "{group}"  # filled in with the world's group id
SESSION = {"starts_at": "2030-01-10T19:00:00Z", "ends_at": "2030-01-10T20:30:00Z", "timezone": "UTC"}
SERIES = {"timezone": "UTC", "first_starts_at": "2030-01-10T19:00:00", "rrule": "FREQ=WEEKLY;COUNT=2"}


@pytest.fixture
def essay_on_session(world) -> Text:
    """The sample essay, passages 1–5 read for the world's session."""
    essay = text_import(group=world.group, created_by=world.organizer, data=SAMPLE.read_bytes(), filename=SAMPLE.name)
    first, last = (essay.passages.get(position=position) for position in (1, 5))
    assignment_create(session=world.session, text=essay, start_passage=first, end_passage=last)
    return essay


def _rows() -> dict[str, int]:
    return {
        "groups": StudyGroup.objects.count(),
        "sessions": Session.objects.count(),
        "series": Series.objects.count(),
        "texts": Text.objects.count(),
        "notes": Note.objects.count(),
        "questions": DiscussionQuestion.objects.count(),
    }


@pytest.mark.parametrize(
    ("method", "url", "body", "field", "message"),
    [
        ("post", "/api/v1/groups/", {"name": "Tuesday\nReaders"}, "name", LINE_BREAK),
        ("patch", "/api/v1/groups/{group}/", {"name": "Tuesday\rReaders"}, "name", LINE_BREAK),
        ("post", "/api/v1/series/", {"group": G, "title": "Capital\nweek", **SERIES}, "title", LINE_BREAK),
        ("post", "/api/v1/series/", {"group": G, "title": "C", "location": "A\tB", **SERIES}, "location", TAB),
        ("post", "/api/v1/sessions/", {"group": G, "title": "A\nB", **SESSION}, "title", LINE_BREAK),
        ("post", "/api/v1/sessions/", {"group": G, "title": "A", "location": "\x1b", **SESSION}, "location", ESCAPE),
        ("patch", "/api/v1/sessions/{session}/", {"title": "Week\u2028one"}, "title", LINE_BREAK),
        ("patch", "/api/v1/sessions/{session}/", {"location": "Room\x852"}, "location", LINE_BREAK),
        ("post", "/api/v1/texts/", {"group": G, "title": "On\nLenin", "content": "Hi."}, "title", LINE_BREAK),
        ("post", "/api/v1/texts/", {"group": G, "author": "Marx\r\nEngels", "content": "Hi."}, "author", LINE_BREAK),
        ("post", "/api/v1/texts/", {"group": G, "source": "a\nb", "content": "Hello."}, "source", LINE_BREAK),
        ("patch", "/api/v1/me/", {"display_name": "Ann\nBcc: x@example.org"}, "display_name", LINE_BREAK),
    ],
)  # fmt: skip
def test_single_line_field_with_a_control_character_is_a_400_naming_it_and_writes_nothing(
    world, api, method, url, body, field, message
):
    ids = {"group": world.group.pk, "session": world.session.pk}
    body = {key: value.format(**ids) if isinstance(value, str) and value.startswith("{") else value
            for key, value in body.items()}  # fmt: skip
    before = _rows()

    response = getattr(api(world.organizer), method)(url.format(**ids), body, format="json")

    assert response.status_code == 400, response.content
    assert response.json() == {"detail": f"{field}: {message}", "errors": {field: [message]}}
    assert _rows() == before
    world.session.refresh_from_db()
    world.group.refresh_from_db()
    world.organizer.refresh_from_db()
    assert (world.session.title, world.group.name, world.organizer.display_name) == (
        "October, week one",
        "Tuesday Readers",
        "Organizer",
    )


def test_note_tag_with_a_control_character_is_a_400_naming_the_tag(world, api, essay_on_session):
    passage = essay_on_session.passages.get(position=2)
    response = api(world.member).post(
        "/api/v1/notes/", {"passage": passage.pk, "body": "Yes.", "tags": ["fine", "two\nlines"]}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"detail": f"tags.1: {LINE_BREAK}", "errors": {"tags.1": [LINE_BREAK]}}
    assert Note.objects.count() == 0


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/api/v1/sessions/", {"group": "{group}", "title": "A", "description": "A\x0bB", **SESSION}, "description"),
        ("/api/v1/sessions/{session}/questions/", {"prompt": "Why?\x07"}, "prompt"),
        ("/api/v1/notes/", {"passage": "{passage}", "body": "See \x1b[31mred"}, "body"),
    ],
)  # fmt: skip
def test_text_over_several_lines_refuses_other_control_characters(world, api, essay_on_session, url, body, field):
    ids = {"group": world.group.pk, "session": world.session.pk, "passage": essay_on_session.passages.first().pk}
    body = {key: value.format(**ids) if isinstance(value, str) and value.startswith("{") else value
            for key, value in body.items()}  # fmt: skip
    before = _rows()

    response = api(world.organizer).post(url.format(**ids), body, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    assert response.json()["errors"][field][0].startswith("This text contains the control character U+00")
    assert _rows() == before


def test_text_over_several_lines_keeps_its_line_breaks_and_tabs(world, api, essay_on_session):
    description = "Bring the essay.\r\n\r\nWe meet upstairs:\n\t- room 2"
    prompt = "“The proletariat needs the state.”\nWhat does he mean by “needs”?"

    session = api(world.organizer).post(
        "/api/v1/sessions/", {"group": world.group.pk, "title": "Week two", "description": description, **SESSION},
        format="json",
    )  # fmt: skip
    question = api(world.organizer).post(
        f"/api/v1/sessions/{world.session.pk}/questions/", {"prompt": prompt}, format="json"
    )

    assert (session.status_code, session.json()["description"]) == (201, description)
    assert (question.status_code, question.json()["prompt"]) == (201, prompt)


# --- Invitation sign-up: Django's user name rules and ours --------------------------------------


@pytest.mark.parametrize(
    ("username", "message"),
    [
        ("ann\nbob", LINE_BREAK),
        ("ann bob", NOT_A_USERNAME),
        ("ann<script>", NOT_A_USERNAME),
    ],
)
def test_signup_through_an_invitation_applies_the_user_name_validators(world, client, api, username, message):
    invitation = invitation_create(group=world.group, created_by=world.organizer)

    response = api(None).post(
        f"/api/v1/invitations/{invitation.token}/signup/",
        {"username": username, "email": "ann@example.org", "password": PASSWORD},
        format="json",
    )
    page = client.post(
        f"/join/{invitation.token}/",
        {"username": username, "email": "ann@example.org", "password": PASSWORD},
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {"username": [message]}
    assert page.status_code == 400
    assert page.context["form"].errors == {"username": [message]}
    assert not User.objects.filter(email="ann@example.org").exists()
    invitation.refresh_from_db()
    assert invitation.use_count == 0


# --- The pages' forms and the admin ---------------------------------------------------------------


def test_session_form_refuses_a_title_with_a_line_break(world, client):
    client.force_login(world.organizer)
    response = client.post(
        f"/groups/{world.group.pk}/sessions/new/",
        {"title": "Week\r\ntwo", "starts_at": "2030-01-10T19:00", "duration_minutes": 90, "timezone": "UTC",
         "status": "scheduled"},
    )  # fmt: skip

    assert response.status_code == 400
    assert response.context["form"].errors == {"title": [LINE_BREAK]}
    assert Session.objects.count() == 1


def test_group_form_refuses_a_name_with_a_tab(world, client):
    client.force_login(world.organizer)
    response = client.post("/groups/new/", {"name": "Tuesday\tReaders", "timezone": "UTC"})

    assert response.status_code == 400
    assert response.context["form"].errors == {"name": [TAB]}
    assert StudyGroup.objects.count() == 2


def test_import_page_refuses_an_author_with_a_line_break(world, client):
    client.force_login(world.organizer)
    upload = _upload(b"A title\n\nA paragraph.")
    response = client.post(
        f"/groups/{world.group.pk}/texts/import/", {"file": upload, "title": "", "author": "Lenin\nTrotsky"}
    )

    assert response.status_code == 400
    assert response.context["form"].errors == {"author": [LINE_BREAK]}
    assert Text.objects.count() == 0


def test_admin_refuses_a_group_name_with_a_line_break(world, client):
    client.force_login(User.objects.create_superuser("root", "root@example.org", "a long admin passphrase"))

    response = client.post(
        "/admin/sessions_app/studygroup/add/",
        {"name": "Tuesday\nReaders", "slug": "tuesday", "timezone": "UTC", "reading_lead_minutes": 4320,
         "starting_lead_minutes": 120, "default_note_visibility": "group", "summary_attendance": "names",
         "memberships-TOTAL_FORMS": 0, "memberships-INITIAL_FORMS": 0},
    )  # fmt: skip

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"name": [LINE_BREAK]}
    assert not StudyGroup.objects.filter(slug="tuesday").exists()


SERIES_PAGE = {"first_starts_at": "2030-01-03T19:00", "duration_minutes": "90", "timezone": "UTC",
               "frequency": "WEEKLY", "count": "2"}  # fmt: skip


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("title", "Weekly\nreading", LINE_BREAK), ("location", "Room\t4", TAB), ("title", "Weekly\x1b[31m", ESCAPE)],
    ids=["title-line-break", "location-tab", "title-escape"],
)
def test_series_form_refuses_control_characters_naming_the_field(world, client, field, value, message):
    client.force_login(world.organizer)
    response = client.post(
        f"/groups/{world.group.pk}/series/new/", {"title": "Weekly", "location": "Room 4", **SERIES_PAGE, field: value}
    )

    assert response.status_code == 400
    assert response.context["form"].errors == {field: [message]}
    assert not Series.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("display_name", "Ann\nBob", LINE_BREAK), ("display_name", "Ann\x1b", ESCAPE), ("username", "ann\tbob", TAB)],
    ids=["display-name-line-break", "display-name-escape", "username-tab"],
)
def test_signup_page_refuses_control_characters_naming_the_field(world, client, field, value, message):
    invitation = invitation_create(group=world.group, created_by=world.organizer)

    response = client.post(
        f"/join/{invitation.token}/",
        {"username": "ann", "display_name": "Ann", "email": "ann@example.org", "password": PASSWORD, field: value},
    )

    assert response.status_code == 400
    assert response.context["form"].errors == {field: [message]}
    assert not User.objects.filter(email="ann@example.org").exists()


def test_search_page_refuses_a_tag_with_a_line_break_naming_it(world, client):
    client.force_login(world.member)

    response = client.get("/search/", {"q": "revolution", "tag": "history\nlies"})

    assert response.status_code == 400
    assert response.context["form"].errors == {"tag": [LINE_BREAK]}


def _upload(content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("essay.txt", content, content_type="text/plain")


# --- Every single-line field has the rule (a new field cannot forget it) ------------------------

# Model CharFields that are not typed by a person on one line, each with its reason.
NOT_TYPED = {
    ("sessions_app", "User", "username"): "Django's UnicodeUsernameValidator allows no control characters",
    ("sessions_app", "User", "password"): "a hash",
    ("sessions_app", "User", "email"): "EmailField: validate_email refuses control characters",
    ("sessions_app", "StudyGroup", "slug"): "SlugField: validate_slug",
    ("sessions_app", "StudyGroup", "timezone"): "validate_timezone: only known IANA names",
    ("sessions_app", "Series", "timezone"): "validate_timezone",
    ("sessions_app", "Series", "online_url"): "URLField: URLValidator refuses control characters",
    ("sessions_app", "Session", "timezone"): "validate_timezone",
    ("sessions_app", "Session", "online_url"): "URLField",
    ("sessions_app", "Invitation", "token"): "made by the server",
    ("sessions_app", "CalendarFeed", "secret"): "made by the server",
    ("sessions_app", "ApiToken", "prefix"): "made by the server",
    ("sessions_app", "ApiToken", "digest"): "made by the server",
    ("readings", "TextImport", "content_type"): "the upload's own header, which cannot hold a line break",
    ("readings", "TextImport", "format"): "one of the formats, checked before it is stored",
    ("readings", "Passage", "anchor"): "made by the server",
    ("readings", "Passage", "section"): "the importer's, from the text's headings",
    ("readings", "Passage", "attribution"): "the importer's",
    ("readings", "Text", "language"): "the importer's, from the file's metadata (a BCP 47 tag)",
    ("readings", "TextRevision", "checksum"): "made by the server",
    ("reminders", "NotificationPreference", "timezone"): "validate_timezone",
    ("reminders", "Reminder", "dedupe_key"): "made by the server (reminders/keys.py)",
}


def test_every_model_char_field_typed_on_one_line_has_the_single_line_validator():
    missing = []
    for app in ("sessions_app", "readings", "reminders"):
        for model in apps.get_app_config(app).get_models():
            for field in model._meta.get_fields():
                if not isinstance(field, models.CharField) or field.choices:
                    continue
                if (app, model.__name__, field.name) in NOT_TYPED:
                    continue
                if validate_single_line not in field.validators:
                    missing.append(f"{app}.{model.__name__}.{field.name}")
    assert missing == []


# Writable plain CharFields of the API's request bodies that are not text on one line, each with its reason.
PLAIN_ALLOWED = {
    "SignupInputSerializer.password": "a password may hold any character",
    "TokenInputSerializer.username": "only compared with existing names",
    "TokenInputSerializer.password": "a password may hold any character",
    "TextContentSerializer.content": "a whole text; the importer refuses binary content",
    "TextInputSerializer.content": "a whole text; the importer refuses binary content",
    "TextContentSerializer.chapters": "ids matched against the book's own chapters",
    "TextInputSerializer.chapters": "ids matched against the book's own chapters",
    "SelectorSerializer.exact": "must match the passage's own words",
    "SelectorSerializer.prefix": "must match the passage's own words",
    "SelectorSerializer.suffix": "must match the passage's own words",
}
# Request bodies are read by serializers named like these (and the serializers nested in them).
REQUEST_NAMES = ("InputSerializer", "UpdateSerializer", "ContentSerializer")
OTHER_REQUESTS = {"MeSerializer", "HideSerializer", "ReorderSerializer"}


def _plain_char_fields(serializer: serializers.Serializer, seen: set) -> list[str]:
    name = type(serializer).__name__
    if name in seen:
        return []
    seen.add(name)
    plain = []
    for field_name, field in serializer.fields.items():
        if isinstance(field, serializers.ListField):
            field = field.child
        if isinstance(field, serializers.Serializer):
            plain += _plain_char_fields(field, seen)
        elif not field.read_only and type(field) is serializers.CharField:
            plain.append(f"{name}.{field_name}")
    return plain


def test_every_api_input_text_field_says_whether_it_is_one_line_or_several():
    plain, seen = [], set()
    for module in (sessions_serializers, readings_serializers, reminders_serializers):
        for name, serializer_class in inspect.getmembers(module, inspect.isclass):
            if issubclass(serializer_class, serializers.Serializer) and (
                name.endswith(REQUEST_NAMES) or name in OTHER_REQUESTS
            ):
                plain += _plain_char_fields(serializer_class(), seen)
    assert sorted(set(plain) - set(PLAIN_ALLOWED)) == []
    assert {"SessionInputSerializer", "NoteInputSerializer", "SelectorSerializer", "MeSerializer"} <= seen


# Plain CharFields of our own forms that are not text on one line, each with its reason. (Password fields may
# hold any character; a model form's fields over model fields are checked by the model's validators, above.)
FORM_PLAIN_ALLOWED = {
    "pages.views.texts.ImportForm.upload": "hidden: an upload's id, matched against the stored ones",
    "pages.views.texts.ImportForm.step": "hidden: compared with the step names",
}


def _our_forms() -> list[type[forms.BaseForm]]:
    """Every form class defined in our apps' modules (all imported: the URLconf reaches every view)."""
    get_resolver().url_patterns  # noqa: B018 (imports every view module)
    for app in ("pages", "sessions_app", "readings", "reminders", "portability"):
        for module in pkgutil.walk_packages(importlib.import_module(app).__path__, f"{app}."):
            if ".migrations" not in module.name and ".management" not in module.name:
                importlib.import_module(module.name)
    found, stack = [], [forms.BaseForm]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] in ("pages", "sessions_app", "readings", "reminders", "portability"):
            found.append(cls)
    return found


def test_every_page_form_text_field_says_whether_it_is_one_line_or_several():
    """A plain CharField in a form of ours carries the single-line or the multi-line validator, or says why not."""
    classes = _our_forms()
    assert {"SignupForm", "SeriesForm", "SessionForm", "GroupForm", "SearchForm", "ImportForm"} <= {
        cls.__name__ for cls in classes
    }  # the walk reached the forms
    plain = []
    for cls in classes:
        for name, field in cls.base_fields.items():
            if not isinstance(field, forms.CharField) or isinstance(field, forms.EmailField | forms.URLField):
                continue
            if isinstance(field.widget, forms.PasswordInput):
                continue
            model = getattr(getattr(cls, "_meta", None), "model", None)
            if model is not None and name in {f.name for f in model._meta.get_fields()}:
                continue  # validated by the model field (full_clean), whose validators are inventoried above
            if validate_single_line in field.validators or validate_multiline_text in field.validators:
                continue
            plain.append(f"{cls.__module__}.{cls.__name__}.{name}")
    assert sorted(plain) == sorted(FORM_PLAIN_ALLOWED)


def test_validators_and_the_render_time_clean_up_agree():
    for bad in ("a\nb", "a\rb", "a\tb", "a\x00b", "a\x7fb", "a\x85b", "a\u2028b", "a\u2029b", "a\x1bb"):
        with pytest.raises(Exception, match="one line"):
            validate_single_line(bad)
        validate_single_line(single_line(bad))
    validate_single_line("Ça va — “quotes”, émoji 📚, right-to-left שלום")
    validate_multiline_text("line one\r\nline two\n\tindented")
    assert single_line("  Ann\r\n\r\nBcc: x@example.org\t") == "Ann Bcc: x@example.org"
