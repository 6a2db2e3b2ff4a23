from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from readings.models import Passage, Text
from sessions_app.models import User

pytestmark = pytest.mark.django_db

SAMPLE = Path(__file__).resolve().parents[2] / "sample-texts" / "october-revolution-study-notes.txt"


@pytest.fixture
def admin_client_(client, world):
    User.objects.create_superuser("root", "root@example.org", "a long admin passphrase")
    client.post("/admin/login/", {"username": "root", "password": "a long admin passphrase"})
    return client


def test_admin_imports_an_uploaded_text_through_the_service(admin_client_, world):
    response = admin_client_.post(
        "/admin/readings/text/add/",
        {
            "group": world.group.id,
            "file": SimpleUploadedFile(SAMPLE.name, SAMPLE.read_bytes()),
            "format": "",
            "title": "",
            "author": "Study notes",
            "source": "",
            "revisions-TOTAL_FORMS": "0",
            "revisions-INITIAL_FORMS": "0",
        },
    )

    text = Text.objects.get()
    assert response.status_code == 302
    assert (text.title, text.author, text.created_by.username) == (
        "The October revolution and the bolsheviks",
        "Study notes",
        "root",
    )
    assert Passage.objects.filter(text=text, anchor="p-1", kind="heading").exists()
    assert admin_client_.get(f"/admin/readings/text/{text.pk}/change/").status_code == 200


def test_admin_shows_import_errors_on_the_file_field(admin_client_, world):
    response = admin_client_.post(
        "/admin/readings/text/add/",
        {
            "group": world.group.id,
            "file": SimpleUploadedFile("x.txt", b"\x00\x01\x02\x03binary\x00"),
            "revisions-TOTAL_FORMS": "0",
            "revisions-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["file"][0].startswith("This file")
    assert not Text.objects.exists()
