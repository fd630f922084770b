"""The TEDS admission items page (`teds_items:edit`) and its chart section: who may read
and record, the derived items, version-checked and audited saves, the export's rules as
form errors, and episodes not admitted."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from openiop.core.models import AuditEvent
from openiop.intake import teds_services as rules
from openiop.intake.models import TedsAdmission
from openiop.testing import TEDS_ITEMS, add_teds_items

pytestmark = pytest.mark.django_db


def url(participant: Any, episode: Any = None) -> str:
    out = reverse("teds_items:edit", kwargs={"pk": participant.pk})
    return f"{out}?episode={episode}" if episode is not None else out


def form_data(version: int = 0, **changes: Any) -> dict[str, Any]:
    values = {**TEDS_ITEMS, **changes}
    return {"version": version, **{k: "" if v is None else v for k, v in values.items()}}


@pytest.mark.parametrize("persona", ["intake", "counsellor", "director", "supervisor"])
def test_clinical_and_intake_staff_read_the_items_with_the_derived_ones(login, world, persona):
    response = login(world.users[persona]).get(url(world.active))
    assert response.status_code == 200
    text = response.content.decode()
    for element in ("ADMDATE", "SERVICES", "PSOURCE", "DAYWAIT", "AGE"):
        assert element in text
    assert "6 (Ambulatory, intensive outpatient)" in text  # level 2.1
    assert "1 (Individual (includes self-referral))" in text  # referred by self
    assert "0 of 26" in text  # 9 + 5 + 12 substance items
    assert ("Save TEDS items" in text) == (persona != "supervisor")  # teds.record


@pytest.mark.parametrize("persona", ["compliance", "billing", "lab"])
def test_roles_without_clinical_or_intake_view_are_refused(login, world, persona):
    response = login(world.users[persona]).get(url(world.active))
    assert response.status_code == 403
    assert b"Ask an administrator" in response.content


def test_another_programs_participant_is_not_found(login, world):
    assert login(world.intake).get(url(world.foreign)).status_code == 404
    assert login(world.outsider).get(url(world.active)).status_code == 404


@pytest.mark.parametrize("episode", ["abc", "0", "-1", "99999999999999999999", "999999"])
def test_an_episode_that_is_not_the_participants_is_not_found(login, world, episode):
    assert login(world.intake).get(url(world.active, episode)).status_code == 404


def test_another_participants_episode_is_not_found(login, world):
    other = world.foreign.current_episode_id
    assert login(world.intake).get(url(world.active, other)).status_code == 404


def test_an_episode_not_admitted_is_refused(login, world):
    client = login(world.intake)
    response = client.get(url(world.referred))
    assert response.status_code == 409
    assert b"not been admitted" in response.content
    response = client.post(url(world.referred), form_data())
    assert response.status_code == 409
    assert not TedsAdmission.objects.exists()


def test_recording_creates_the_items_with_an_audit_event(login, world):
    client = login(world.intake)
    response = client.post(url(world.active), form_data())
    assert response.status_code == 302
    assert response["Location"] == url(world.active)
    items = TedsAdmission.objects.get(episode=world.active.current_episode)
    assert items.version == 1 and items.sub1 == 2 and items.route3 is None
    event = AuditEvent.objects.filter(action="create", object_type="intake.tedsadmission").get()
    assert event.actor_id == world.intake.pk
    assert event.participant_id == world.active.pk
    assert event.changes["sub1"] == [None, 2]
    page = client.get(url(world.active)).content.decode()
    assert "23 of 23" in page  # no third substance: its 3 details are not asked
    assert "The export would refuse" not in page and "Missing:" not in page


def test_a_change_is_version_checked_and_audited_before_and_after(login, world):
    add_teds_items(world)
    client = login(world.counsellor)
    response = client.post(url(world.active), form_data(version=1, employment=3))
    assert response.status_code == 302
    items = TedsAdmission.objects.get()
    assert items.version == 2 and items.employment == 3
    event = AuditEvent.objects.filter(action="change", object_type="intake.tedsadmission").get()
    assert event.changes == {"employment": [1, 3]}
    # A form opened at version 1 is now stale: refused, nothing changes.
    response = client.post(url(world.active), form_data(version=1, employment=4))
    assert response.status_code == 400
    assert "Someone else saved" in str(response.context["form"].non_field_errors())
    assert TedsAdmission.objects.get().employment == 3


def test_a_second_first_save_is_stale(login, world):
    add_teds_items(world)
    response = login(world.intake).post(url(world.active), form_data(version=0))
    assert response.status_code == 400
    assert TedsAdmission.objects.get().version == 1


def test_saving_needs_teds_record(login, world):
    response = login(world.supervisor).post(url(world.active), form_data())
    assert response.status_code == 403
    assert not TedsAdmission.objects.exists()


def test_partial_items_may_be_saved_and_the_missing_ones_are_named(login, world):
    client = login(world.intake)
    data = form_data(race=None, education=None)
    assert client.post(url(world.active), data).status_code == 302
    page = client.get(url(world.active)).content.decode()
    assert "21 of 23" in page
    assert "RACE" in page and "EDUC" in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"sex": 1, "pregnant": 2}, "pregnant", "PREG: pregnancy is recorded only for a female"),
        ({"sub2": 2}, "sub2", "SUB2: the same substance as SUB1"),
        ({"route3": 1}, "route3", "ROUTE3: given for SUB3 None"),
        ({"frstuse1": 90}, "frstuse1", "FRSTUSE1: greater than the age at admission"),
        (
            {"sub1": 1, "route1": "", "freq1": "", "frstuse1": ""},
            "sub1",
            "SUB1: a client admitted to treatment has a primary substance",
        ),
        (
            {"sub1": "", "route1": "", "freq1": "", "frstuse1": ""},
            "sub2",
            "SUB2: given without SUB1",
        ),
        ({"race": 42}, "race", "Select a valid choice"),
        ({"frstuse2": 121}, "frstuse2", "less than or equal to 120"),
    ],
)
def test_the_exports_rules_are_form_errors(login, world, changes, field, message):
    response = login(world.intake).post(url(world.active), form_data(**changes))
    assert response.status_code == 400
    errors = " ".join(response.context["form"].errors.get(field, []))
    assert message in errors, response.context["form"].errors
    assert not TedsAdmission.objects.exists()


def test_an_episode_is_reached_by_its_id_also_after_discharge(login, world):
    from openiop.participants import services
    from openiop.participants.choices import EpisodeStatus as S

    episode = world.active.current_episode
    services.transition_episode(
        episode,
        S.DISCHARGED,
        actor=world.intake,
        effective_date=world.program.today(),
        reason="Completed",
    )
    response = login(world.intake).get(url(world.active, episode.pk))
    assert response.status_code == 200
    assert response.context["episode"].pk == episode.pk


# --- the chart section ----------------------------------------------------------------------


def chart(client, participant) -> str:
    return client.get(reverse("participants:chart", kwargs={"pk": participant.pk})).content.decode()


def test_the_chart_section_counts_and_names_the_missing_items(login, world):
    client = login(world.counsellor)
    page = chart(client, world.active)
    assert "State reporting (TEDS)" in page
    assert "0 of 26" in page and "GENDER" in page
    add_teds_items(world, race=None, sex=1, pregnant=None)
    page = chart(client, world.active)
    assert "21 of 22" in page  # a man: pregnancy is not asked
    assert "Missing: RACE." in page
    assert reverse("teds_items:edit", kwargs={"pk": world.active.pk}) in page


def test_the_chart_section_says_when_the_items_are_ready(login, world):
    add_teds_items(world)
    page = chart(login(world.intake), world.active)
    assert "ready for the state" in page


def test_the_chart_section_is_not_shown_before_admission(login, world):
    page = chart(login(world.intake), world.referred)
    assert "State reporting (TEDS)" not in page


def test_the_rules_of_the_form_and_of_the_export_are_the_same():
    """The form reports exactly the export's non-missing problems (one list of rules)."""
    items = TedsAdmission(**{**TEDS_ITEMS, "sex": 1, "sub2": 2, "route3": 1})
    problems = [p for p in rules.check_items(items, age=30) if not p.missing]
    assert {p.field for p in problems} == {"pregnant", "sub2", "route3"}
