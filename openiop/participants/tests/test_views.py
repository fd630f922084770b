from __future__ import annotations

import pytest
from django.urls import reverse

from openiop.core.models import AuditEvent
from openiop.participants.choices import EpisodeStatus as S
from openiop.participants.models import Participant
from openiop.testing import make_participant

pytestmark = pytest.mark.django_db


def transition_url(p, to):
    return reverse("participants:episode_transition", args=[p.pk, p.current_episode_id, to])


def test_intake_registers_a_referral(world, login):
    client = login(world.intake)
    response = client.post(
        reverse("participants:new"),
        {
            "legal_first_name": "Robin",
            "legal_last_name": "Hale",
            "date_of_birth": "1988-02-29",
            "preferred_language": "English",
            "referral_source": "court",
            "referral_date": world.program.today().isoformat(),
            "program": world.program.pk,
        },
    )
    assert response.status_code == 302
    p = Participant.objects.get(legal_last_name="Hale")
    assert response["Location"] == reverse("participants:chart", args=[p.pk])
    assert p.current_episode.status == S.REFERRED
    assert p.current_episode.referral_source == "court"
    chart = client.get(response["Location"])
    assert b"Robin Hale" in chart.content and b"Start screening" in chart.content


def test_counsellor_moves_an_episode_through_the_generic_steps(world, login):
    client = login(world.counsellor)
    p = world.referred
    today = world.program.today().isoformat()
    r = client.post(transition_url(p, "screening"), {"effective_date": today})
    assert r.status_code == 302, r.content[:600]
    admitted = make_participant(
        world.program, world.intake, last="Admitted", status=S.ADMITTED, counsellor=world.counsellor
    )
    r = client.post(transition_url(admitted, "active"), {"effective_date": today})
    assert r.status_code == 302
    admitted.refresh_from_db()
    assert admitted.current_episode.status == S.ACTIVE
    chart = client.get(reverse("participants:chart", args=[admitted.pk]))
    assert b"Discharge" in chart.content


@pytest.mark.parametrize(
    ("status", "to", "guided"),
    [(S.SCREENING, "assessed", "/assessment/"), (S.ASSESSED, "admitted", "/admit/")],
)
def test_steps_with_their_own_form_are_refused_here_and_point_to_it(
    world, login, status, to, guided
):
    """Assessed needs a signed assessment and Admitted the admission form (diagnoses,
    consents): the generic status page refuses them and links to the right form."""
    client = login(world.counsellor)
    p = make_participant(world.program, world.intake, last="Guided", status=status)
    track = world.program.tracks.get(name="Morning")
    r = client.post(
        transition_url(p, to),
        {
            "effective_date": world.program.today().isoformat(),
            "level_of_care": "3:2.1",
            "track": track.pk,
            "primary_counsellor": world.counsellor.pk,
        },
    )
    assert r.status_code == 409
    assert guided.encode() in r.content
    p.current_episode.refresh_from_db()
    assert p.current_episode.status == status
    chart = client.get(reverse("participants:chart", args=[p.pk]))
    assert f"/intake/{p.current_episode_id}{guided}".encode() in chart.content


def test_refused_transition_says_why_and_changes_nothing(world, login):
    client = login(world.counsellor)
    p = world.active
    response = client.get(transition_url(p, "screening"))
    assert response.status_code == 409
    assert b"do not move backwards" in response.content
    response = client.post(
        transition_url(p, "screening"), {"effective_date": world.program.today().isoformat()}
    )
    assert response.status_code == 409
    p.current_episode.refresh_from_db()
    assert p.current_episode.status == S.ACTIVE


def test_discharge_goes_through_the_discharge_form(world, login):
    """The generic status page does not discharge: it points to the discharge form."""
    client = login(world.counsellor)
    discharge_url = reverse("discharge:discharge", args=[world.active.pk])
    for response in (
        client.get(transition_url(world.active, "discharged")),
        client.post(
            transition_url(world.active, "discharged"),
            {"effective_date": world.program.today().isoformat(), "reason": "Completed"},
        ),
    ):
        assert response.status_code == 409
        assert b"recorded with its own form" in response.content
        assert discharge_url.encode() in response.content
    world.active.current_episode.refresh_from_db()
    assert world.active.current_episode.status == S.ACTIVE


def test_edit_conflict_is_shown_not_overwritten(world, login):
    p = world.referred
    data = {
        "legal_first_name": "Pat",
        "legal_last_name": "Referred",
        "date_of_birth": "1990-05-17",
        "preferred_language": "English",
        "phone": "(207) 555-0102",
        "version": p.version,
    }
    client = login(world.counsellor)
    assert client.post(reverse("participants:edit", args=[p.pk]), data).status_code == 302
    data["phone"] = "(207) 555-0999"  # a second edit from a page opened before the first save
    response = client.post(reverse("participants:edit", args=[p.pk]), data)
    assert response.status_code == 400
    assert b"Someone else saved" in response.content
    p.refresh_from_db()
    assert p.phone == "(207) 555-0102"


def search(client, q, **filters):
    response = client.post(reverse("participants:list"), {"q": q, **filters})
    assert response.status_code == 302
    # The name searched for stays out of the URL (PHI in logs and history).
    assert q not in response["Location"] and "search=1" in response["Location"]
    return client.get(response["Location"])


def test_search_and_filters(world, login):
    client = login(world.counsellor)
    r = search(client, "referred")
    assert b"Pat Referred" in r.content and b"Pat Active" not in r.content
    r = search(client, world.active.record_number)
    assert b"Pat Active" in r.content and b"Pat Referred" not in r.content
    r = client.get(reverse("participants:list"), {"status": "active", "counsellor": "me"})
    assert b"Pat Active" in r.content and b"Pat Referred" not in r.content
    r = search(client, "Foreign")
    assert b"Pat Foreign" not in r.content and b"No participant matches" in r.content
    r = client.get(reverse("participants:list"), {"track": "abc", "page": "zz", "status": "x"})
    assert r.status_code == 200
    # Leaving the search: the plain list shows everyone again.
    r = client.get(reverse("participants:list"))
    assert b"Pat Active" in r.content and b"Pat Referred" in r.content
    # A search with filters keeps the filters in the URL.
    r = search(client, "pat", status="active")
    assert b"Pat Active" in r.content and b"Pat Referred" not in r.content


def test_lab_sees_identity_but_no_clinical_actions(world, login):
    response = login(world.lab).get(reverse("participants:chart", args=[world.active.pk]))
    assert response.status_code == 200
    assert b"Pat Active" in response.content
    assert b"Edit details" not in response.content and b"Discharge" not in response.content
    event = AuditEvent.objects.filter(actor=world.lab).latest("id")
    assert (event.action, event.participant_id) == ("view", world.active.pk)


def test_today_board_shows_caseload_and_groups(world, login):
    response = login(world.counsellor).get("/")
    assert response.status_code == 200
    assert b"My caseload" in response.content and b"Pat Active" in response.content


def test_referral_before_birth_is_a_form_error(world, login):
    response = login(world.intake).post(
        reverse("participants:new"),
        {
            "legal_first_name": "Early",
            "legal_last_name": "Bird",
            "date_of_birth": "2000-01-02",
            "preferred_language": "English",
            "referral_source": "self",
            "referral_date": "2000-01-01",
            "program": world.program.pk,
        },
    )
    assert response.status_code == 400
    assert b"before the birth date" in response.content
    assert not Participant.objects.filter(legal_last_name="Bird").exists()


def test_director_voids_a_duplicate(world, login):
    client = login(world.director)
    p = world.referred
    assert b"Void record" in client.get(reverse("participants:chart", args=[p.pk])).content
    response = client.post(reverse("participants:void", args=[p.pk]), {"reason": "Duplicate"})
    assert response.status_code == 302
    p.refresh_from_db()
    assert p.voided and p.void_reason == "Duplicate" and p.voided_by == world.director
    # Gone from lists and charts, kept in the database and the audit log.
    assert client.get(reverse("participants:chart", args=[p.pk])).status_code == 404
    assert b"Pat Referred" not in client.get(reverse("participants:list")).content
    assert AuditEvent.objects.filter(participant_id=p.pk, action="void", reason="Duplicate")
    assert Participant.objects.filter(pk=p.pk).exists()


def test_void_needs_a_reason(world, login):
    response = login(world.director).post(
        reverse("participants:void", args=[world.referred.pk]), {"reason": "  "}
    )
    assert response.status_code == 400
    world.referred.refresh_from_db()
    assert not world.referred.voided
