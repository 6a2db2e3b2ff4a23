"""The group page's note settings: what new notes default to, and whether highlights unlock "post before you peek"."""

import re

import pytest

from sessions_app.models import StudyGroup

pytestmark = pytest.mark.django_db


def settings_url(world) -> str:
    return f"/groups/{world.group.pk}/note-settings/"


def test_organizer_sets_the_default_audience_and_the_highlight_rule(world, client):
    client.force_login(world.organizer)
    before = client.get(f"/groups/{world.group.pk}/").content.decode()

    response = client.post(settings_url(world), {"default_note_visibility": "private", "highlights_unlock_peek": "on"})

    assert re.search(r'<option value="group" selected>The group</option>', before)
    assert response.status_code == 302
    assert response["Location"] == f"/groups/{world.group.pk}/#note-settings"
    group = StudyGroup.objects.get(pk=world.group.pk)
    assert (group.default_note_visibility, group.highlights_unlock_peek) == ("private", True)
    after = client.get(f"/groups/{world.group.pk}/").content.decode()
    assert '<option value="private" selected>Only me</option>' in after
    assert "Saved the note settings." in after


def test_a_bad_audience_changes_nothing_and_says_why(world, client):
    client.force_login(world.organizer)

    response = client.post(settings_url(world), {"default_note_visibility": "everyone"}, follow=True)

    group = StudyGroup.objects.get(pk=world.group.pk)
    assert (group.default_note_visibility, group.highlights_unlock_peek) == ("group", False)
    assert "Select a valid choice. everyone is not one of the available choices." in response.content.decode()


@pytest.mark.parametrize(("role", "status"), [("member", 403), ("facilitator", 403), ("outsider", 404)])
def test_only_organizers_change_the_note_settings(world, client, role, status):
    client.force_login(world.user(role))

    response = client.post(settings_url(world), {"default_note_visibility": "private"})

    assert response.status_code == status
    assert StudyGroup.objects.get(pk=world.group.pk).default_note_visibility == "group"
    assert "note-settings" not in client.get(f"/groups/{world.group.pk}/").content.decode()


def test_organizer_chooses_that_the_summary_counts_who_came_and_a_bad_choice_changes_nothing(world, client):
    client.force_login(world.organizer)
    before = client.get(f"/groups/{world.group.pk}/").content.decode()

    saved = client.post(settings_url(world), {"default_note_visibility": "group", "summary_attendance": "counts"})
    counted = StudyGroup.objects.get(pk=world.group.pk).summary_attendance
    refused = client.post(
        settings_url(world), {"default_note_visibility": "group", "summary_attendance": "faces"}, follow=True
    )

    assert '<option value="names" selected>Names of those who came</option>' in before
    assert saved.status_code == 302
    assert counted == "counts"
    assert "Select a valid choice. faces is not one of the available choices." in refused.content.decode()
    assert StudyGroup.objects.get(pk=world.group.pk).summary_attendance == "counts"
