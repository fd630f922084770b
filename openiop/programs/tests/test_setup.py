from __future__ import annotations

import pytest
from django.urls import reverse

from openiop.core.models import AuditEvent
from openiop.programs.models import Program, Site, Track

pytestmark = pytest.mark.django_db


def track_data(**over):
    data = {
        "name": "Weekend",
        "days": ["5", "6"],
        "start_time": "09:00",
        "end_time": "13:00",
        "modality": "hybrid",
        "description": "",
    }
    data.update(over)
    return data


def test_director_adds_a_track(world, login):
    client = login(world.director)
    url = reverse("programs:create_in", args=["track", world.program.pk])
    response = client.post(url, track_data())
    assert response.status_code == 302
    track = Track.objects.get(name="Weekend")
    assert track.program == world.program and track.days == [5, 6]
    assert track.hours_per_week == 8
    assert AuditEvent.objects.filter(object_type="programs.track", action="create").exists()
    detail = client.get(reverse("programs:program", args=[world.program.pk]))
    assert b"Weekend" in detail.content and b"below minimum" in detail.content


def test_end_before_start_is_a_form_error(world, login):
    url = reverse("programs:create_in", args=["track", world.program.pk])
    response = login(world.director).post(url, track_data(end_time="08:00"))
    assert response.status_code == 400
    assert b"end time must be after" in response.content


def test_duplicate_track_name_is_a_form_error(world, login):
    url = reverse("programs:create_in", args=["track", world.program.pk])
    response = login(world.director).post(url, track_data(name="Morning"))
    assert response.status_code == 400
    assert b"already has this name" in response.content


def test_retiring_keeps_the_record(world, login):
    track = world.program.tracks.get(name="Evening")
    data = track_data(
        name="Evening", days=["0", "2", "3"], start_time="18:00", end_time="21:00", retired="on"
    )
    response = login(world.director).post(reverse("programs:edit", args=["track", track.pk]), data)
    assert response.status_code == 302
    track.refresh_from_db()
    assert track.retired and track.retired_at is not None
    with pytest.raises(TypeError, match="retire"):
        track.delete()


def test_iop_hour_floor_is_enforced(world, login):
    data = {
        "name": world.program.name,
        "site": world.program.site_id,
        "time_zone": "America/New_York",
        "level_of_care": "3:2.1",
        "population": "adult",
        "min_weekly_hours": "6",
        "absence_alert_after": "2",
        "craving_alert_at": "7",
    }
    response = login(world.director).post(
        reverse("programs:edit", args=["program", world.program.pk]), data
    )
    assert response.status_code == 400
    assert b"at least 9" in response.content
    data.update(population="adolescent")
    response = login(world.director).post(
        reverse("programs:edit", args=["program", world.program.pk]), data
    )
    assert response.status_code == 302
    world.program.refresh_from_db()
    assert world.program.min_weekly_hours == 6


def test_admin_adds_a_site_and_a_program(world, login):
    client = login(world.admin)
    assert (
        client.post(
            reverse("programs:create", args=["site"]),
            {"name": "North Clinic", "address": "1 Main St"},
        ).status_code
        == 302
    )
    site = Site.objects.get(name="North Clinic")
    response = client.post(
        reverse("programs:create", args=["program"]),
        {
            "name": "North IOP",
            "site": site.pk,
            "time_zone": "America/Chicago",
            "level_of_care": "4:2.1",
            "population": "adult",
            "min_weekly_hours": "9",
        },
    )
    assert response.status_code == 302
    assert Program.objects.get(name="North IOP").time_zone == "America/Chicago"


def test_director_cannot_add_programs(world, login):
    response = login(world.director).get(reverse("programs:create", args=["program"]))
    assert response.status_code == 403


def test_unknown_kind_is_404(world, login):
    assert login(world.admin).get("/setup/nonsense/new/").status_code == 404
