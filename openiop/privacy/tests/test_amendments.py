"""Amendment requests (issue 8, point 7; ONC 170.315(d)(4); HIPAA §164.526): a request is
logged against a record of the participant, accepted (the amendment is shown with the
record, which itself never changes) or denied with a reason (the request, the denial and
any statement of disagreement are shown with the record); decided within 60 days."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from openiop.core.models import AuditEvent
from openiop.notes.models import Note
from openiop.privacy import amendment_services as services
from openiop.privacy.amendment_panels import panel_context
from openiop.privacy.choices import AmendmentStatus
from openiop.privacy.models import AmendmentRequest
from openiop.testing import add_amendment, add_screening_orders, add_screening_review

NOTE_CHANGE = "I said I had a craving at home, not at work."


@pytest.fixture
def w(world):
    add_amendment(world)
    return world


def log(world, target, *, days_ago=1, change="Please correct this.", **more):
    return services.log_request(
        world.active,
        actor=world.counsellor,
        received_on=world.program.today() - dt.timedelta(days=days_ago),
        requested_by="Pat Active",
        target=target,
        requested_change=change,
        **more,
    )


def url(name, amendment):
    return reverse(name, args=[amendment.participant_id, amendment.pk])


# --- which records a request may name -----------------------------------------------------


def test_the_choices_are_the_participants_own_records_named_without_content(world):
    add_screening_orders(world)
    add_screening_review(world)
    values = {t.value: t.label for t in services.targets_for(world.active)}
    assert f"notes.note:{world.signed_note.pk}" in values
    assert f"notes.note:{world.draft_note.pk}" not in values  # a draft is still edited
    assert f"plans.treatmentplan:{world.plan.pk}" in values
    assert f"plans.treatmentplan:{world.draft_plan.pk}" not in values
    assert f"instruments.instrumentresponse:{world.response.pk}" in values
    assert f"screening.order:{world.screen_reviewed.pk}" in values  # has results
    assert f"screening.order:{world.screen_random.pk}" not in values  # not collected
    assert f"screening.order:{world.screen_collected.pk}" not in values  # no results yet
    # Labels name the record, never its content.
    label = values[f"notes.note:{world.signed_note.pk}"]
    assert label.startswith("DAP note of") and "craving" not in label
    # Signed assessments (world.assessed's), not drafts (world.screening's).
    assessed = {t.value for t in services.targets_for(world.assessed)}
    assert f"intake.assessment:{world.signed_assessment.pk}" in assessed
    screening = {t.value for t in services.targets_for(world.screening)}
    assert f"intake.assessment:{world.draft_assessment.pk}" not in screening


def test_the_choice_list_is_grouped_and_ends_with_another_record(world):
    choices = services.target_choices(services.targets_for(world.active))
    assert choices[-1][0] == services.OTHER
    assert [group for group, _ in choices[:-1]] == [
        "Signed progress notes",
        "Treatment plan versions",
        "Questionnaires (instrument responses)",
    ]


def test_building_the_choices_runs_five_queries_whatever_the_records(
    world, django_assert_num_queries
):
    participant = type(world.active).objects.select_related("program").get(pk=world.active.pk)
    with django_assert_num_queries(5):
        services.targets_for(participant)


# --- logging ------------------------------------------------------------------------------


def test_a_logged_request_waits_for_a_decision_and_is_audited(world):
    amendment = log(world, f"notes.note:{world.signed_note.pk}", change=NOTE_CHANGE)
    assert amendment.status == AmendmentStatus.PENDING
    assert (amendment.target_type, amendment.target_id) == ("notes.note", str(world.signed_note.pk))
    assert amendment.target_label.startswith("DAP note of")
    event = AuditEvent.objects.filter(object_type="privacy.amendmentrequest").latest("id")
    assert event.action == "amend" and event.changes["step"] == "logged"
    assert event.participant_id == world.active.pk
    assert NOTE_CHANGE not in str(event.changes)  # the request's text stays out of the log


def test_another_record_is_described_in_free_text(world):
    amendment = log(world, services.OTHER, other_label="Intake paperwork of March 2")
    assert (amendment.target_type, amendment.target_id) == ("", "")
    assert amendment.target_label == "Intake paperwork of March 2"
    with pytest.raises(services.AmendmentError, match="description"):
        log(world, services.OTHER, other_label="  ")


@pytest.mark.parametrize(
    ("target", "more", "message"),
    [
        (lambda w: f"notes.note:{w.draft_note.pk}", {}, "Choose one"),
        (lambda w: "notes.note:999999", {}, "Choose one"),
        (lambda w: f"notes.note:{w.signed_note.pk}", {"days_ago": -1}, "future"),
        (lambda w: f"notes.note:{w.signed_note.pk}", {"change": "  "}, "Write the change"),
        (lambda w: f"notes.note:{w.signed_note.pk}", {"change": "a\x00b"}, "NUL"),
        (lambda w: f"notes.note:{w.signed_note.pk}", {"change": "x" * 4001}, "at most"),
    ],
)
def test_a_request_that_cannot_be_logged_is_refused_and_nothing_is_written(
    world, target, more, message
):
    with pytest.raises(services.AmendmentError, match=message):
        log(world, target(world), **more)
    assert not AmendmentRequest.objects.exists()


def test_another_participants_record_cannot_be_named(world):
    add_amendment(world)
    foreign_note = Note.objects.filter(participant=world.active).first()
    with pytest.raises(services.AmendmentError):
        services.log_request(
            world.referred,
            actor=world.counsellor,
            received_on=world.program.today(),
            requested_by="Pat Referred",
            target=f"notes.note:{foreign_note.pk}",
            requested_change="Change it.",
        )


# --- deciding -----------------------------------------------------------------------------


def test_accepting_appends_the_amendment_and_leaves_the_signed_note_as_it_was(w):
    note = Note.objects.get(pk=w.signed_note.pk)
    accepted = services.accept(
        w.amendment, actor=w.compliance, amendment_text="The craving was at home."
    )
    assert accepted.status == AmendmentStatus.ACCEPTED
    assert accepted.decided_by == w.compliance and accepted.decided_at is not None
    after = Note.objects.get(pk=note.pk)
    assert (after.sections, after.version, after.updated_at) == (
        note.sections,
        note.version,
        note.updated_at,
    )
    # Audited on the request and in the note's own trail.
    assert AuditEvent.objects.filter(
        action="amend", object_type="privacy.amendmentrequest", object_id=str(accepted.pk)
    ).exists()
    event = AuditEvent.objects.filter(
        action="amend", object_type="notes.note", object_id=str(note.pk)
    ).get()
    assert event.changes == {"amendment_request": accepted.pk, "status": "accepted"}


def test_an_accepted_amendment_needs_its_text(w):
    with pytest.raises(services.AmendmentError, match="Write the amendment"):
        services.accept(w.amendment, actor=w.supervisor, amendment_text="   ")
    w.amendment.refresh_from_db()
    assert w.amendment.status == AmendmentStatus.PENDING


def test_a_denial_needs_a_ground_and_a_reason(w):
    with pytest.raises(services.AmendmentError, match="ground"):
        services.deny(w.amendment, actor=w.supervisor, ground="because", explanation="No.")
    with pytest.raises(services.AmendmentError, match="reason"):
        services.deny(w.amendment, actor=w.supervisor, ground="accurate", explanation=" ")
    denied = services.deny(
        w.amendment, actor=w.supervisor, ground="accurate", explanation="It is accurate."
    )
    assert denied.decision_reason.startswith("The record is accurate and complete")
    assert denied.decision_reason.endswith("It is accurate.")


@pytest.mark.parametrize("first", ["accept", "deny"])
@pytest.mark.parametrize("second", ["accept", "deny"])
def test_a_decision_is_final(w, first, second):
    def decide(how):
        if how == "accept":
            return services.accept(w.amendment, actor=w.supervisor, amendment_text="Text.")
        return services.deny(w.amendment, actor=w.supervisor, ground="accurate", explanation="No")

    decide(first)
    before = AmendmentRequest.objects.values().get(pk=w.amendment.pk)
    with pytest.raises(services.AmendmentError, match="already"):
        decide(second)
    assert AmendmentRequest.objects.values().get(pk=w.amendment.pk) == before


def test_a_statement_of_disagreement_answers_a_denial_once(w):
    with pytest.raises(services.AmendmentError, match="denied request"):
        services.add_disagreement(w.amendment, actor=w.counsellor, text="I disagree.")
    filed = services.add_disagreement(
        w.denied_amendment, actor=w.counsellor, text="I have never had a drink problem."
    )
    assert filed.disagreement == "I have never had a drink problem."
    with pytest.raises(services.AmendmentError, match="already on file"):
        services.add_disagreement(w.denied_amendment, actor=w.counsellor, text="Again.")


def test_a_request_logged_in_error_is_voided_never_deleted(w):
    with pytest.raises(services.AmendmentError, match="reason"):
        services.void_request(w.amendment, actor=w.supervisor, reason="")
    voided = services.void_request(w.amendment, actor=w.supervisor, reason="Wrong participant.")
    assert voided.voided and voided.void_reason == "Wrong participant."
    assert AuditEvent.objects.filter(action="void", object_id=str(voided.pk)).exists()
    with pytest.raises(services.AmendmentError, match="voided"):
        services.accept(voided, actor=w.supervisor, amendment_text="Text.")
    with pytest.raises(TypeError):
        voided.delete()


# --- the 60 days (§164.526(b)(2)) --------------------------------------------------------------


def test_a_decision_is_due_60_days_after_receipt_and_late_after_that(world):
    today = world.program.today()
    on_time = log(world, services.OTHER, other_label="A", days_ago=60)
    late = log(world, services.OTHER, other_label="B", days_ago=61)
    assert services.due_by(on_time) == today
    assert not services.is_overdue(on_time, today)
    assert services.is_overdue(late, today)
    decided = services.deny(late, actor=world.supervisor, ground="accurate", explanation="No")
    assert not services.is_overdue(decided, today)


# --- pages: who may do what -------------------------------------------------------------


def test_a_counsellor_logs_a_request_from_the_page(world, login):
    client = login(world.counsellor)
    page = client.get(reverse("amendments:new", args=[world.active.pk]))
    assert page.status_code == 200
    assert page.context["form"].initial["requested_by"] == world.active.display_name
    response = client.post(
        reverse("amendments:new", args=[world.active.pk]),
        {
            "received_on": world.program.today().isoformat(),
            "requested_by": "Pat Active",
            "target": f"notes.note:{world.signed_note.pk}",
            "requested_change": NOTE_CHANGE,
        },
    )
    amendment = AmendmentRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("amendments:detail", amendment)
    detail = client.get(response["Location"]).content.decode()
    assert NOTE_CHANGE in detail and "Waiting for a decision" in detail


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"target": "notes.note:999999"}, "target"),
        ({"target": "other", "other_label": ""}, "other_label"),
        ({"received_on": "2999-01-01"}, "received_on"),
        ({"requested_change": ""}, "requested_change"),
        ({"requested_by": "x" * 300}, "requested_by"),
    ],
)
def test_bad_input_to_the_log_form_is_a_form_error(world, login, change, field):
    client = login(world.counsellor)
    payload = {
        "received_on": world.program.today().isoformat(),
        "requested_by": "Pat Active",
        "target": f"notes.note:{world.signed_note.pk}",
        "requested_change": NOTE_CHANGE,
        **change,
    }
    response = client.post(reverse("amendments:new", args=[world.active.pk]), payload)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not AmendmentRequest.objects.exists()


def test_compliance_handles_a_request_without_reading_the_note(w, login):
    client = login(w.compliance)
    note_url = reverse("notes:detail", args=[w.active.pk, w.signed_note.pk])
    assert client.get(note_url).status_code == 403
    page = client.get(url("amendments:detail", w.amendment))
    html = page.content.decode()
    assert page.status_code == 200
    assert w.amendment.target_label in html
    assert note_url not in html  # the label, not a link to the note
    assert "urge surfing" not in html  # nothing of the note's content
    response = client.post(
        url("amendments:accept", w.amendment), {"amendment_text": "The craving was at home."}
    )
    assert response.status_code == 302
    w.amendment.refresh_from_db()
    assert w.amendment.status == AmendmentStatus.ACCEPTED


def test_a_clinician_gets_a_link_to_the_record(w, login):
    html = login(w.counsellor).get(url("amendments:detail", w.amendment)).content.decode()
    assert reverse("notes:detail", args=[w.active.pk, w.signed_note.pk]) in html


def test_a_counsellor_logs_but_does_not_decide(w, login):
    client = login(w.counsellor)
    response = client.post(url("amendments:accept", w.amendment), {"amendment_text": "Text."})
    assert response.status_code == 403
    response = client.post(
        url("amendments:deny", w.amendment), {"ground": "accurate", "explanation": "No."}
    )
    assert response.status_code == 403
    w.amendment.refresh_from_db()
    assert w.amendment.status == AmendmentStatus.PENDING
    page = client.get(url("amendments:detail", w.amendment)).content.decode()
    assert "Accept and append" not in page


@pytest.mark.parametrize("persona", ["lab", "billing", "norole", "admin"])
def test_who_reads_neither_clinical_records_nor_consents_is_refused(w, login, persona):
    client = login(w.users[persona])
    for name in ("amendments:list",):
        response = client.get(reverse(name, args=[w.active.pk]))
        assert response.status_code == 403
        assert b"Ask an administrator" in response.content
    assert client.get(url("amendments:detail", w.amendment)).status_code == 403


def test_another_programs_user_gets_404(w, login):
    client = login(w.outsider)
    assert client.get(reverse("amendments:list", args=[w.active.pk])).status_code == 404
    assert client.get(url("amendments:detail", w.amendment)).status_code == 404
    response = client.post(url("amendments:accept", w.amendment), {"amendment_text": "x"})
    assert response.status_code == 404


def test_a_request_is_reached_only_through_its_participant(w, login):
    client = login(w.supervisor)
    wrong = reverse("amendments:detail", args=[w.referred.pk, w.amendment.pk])
    assert client.get(wrong).status_code == 404
    wrong = reverse("amendments:accept", args=[w.referred.pk, w.amendment.pk])
    assert client.post(wrong, {"amendment_text": "x"}).status_code == 404


def test_deciding_a_decided_request_answers_409_with_the_reason(w, login):
    client = login(w.supervisor)
    denied = w.denied_amendment
    before = AmendmentRequest.objects.values().get(pk=denied.pk)
    response = client.post(url("amendments:accept", denied), {"amendment_text": "Text."})
    assert response.status_code == 409
    assert b"already denied" in response.content
    response = client.post(
        url("amendments:deny", denied), {"ground": "accurate", "explanation": "Again."}
    )
    assert response.status_code == 409
    assert AmendmentRequest.objects.values().get(pk=denied.pk) == before


@pytest.mark.parametrize(
    ("name", "payload", "status"),
    [
        ("amendments:accept", {}, 400),
        ("amendments:accept", {"amendment_text": "x" * 5000}, 400),
        ("amendments:accept", {"amendment_text": "a\x00b"}, 400),
        ("amendments:deny", {"ground": "bogus", "explanation": "No."}, 400),
        ("amendments:deny", {"ground": "accurate"}, 400),
        ("amendments:disagreement", {"text": "I disagree."}, 409),  # not denied
        ("amendments:disagreement", {"text": ""}, 400),
        ("amendments:void", {"reason": ""}, 400),
    ],
)
def test_bad_input_to_a_decision_is_refused_never_500(w, login, name, payload, status):
    client = login(w.director)
    before = list(AmendmentRequest.objects.values())
    response = client.post(url(name, w.amendment), payload)
    assert response.status_code == status
    assert list(AmendmentRequest.objects.values()) == before


def test_the_participant_disagrees_and_a_request_is_voided_from_the_page(w, login):
    client = login(w.counsellor)
    page = client.get(url("amendments:detail", w.denied_amendment)).content.decode()
    assert "File the participant" in page
    response = client.post(
        url("amendments:disagreement", w.denied_amendment), {"text": "I only use cannabis."}
    )
    assert response.status_code == 302
    client = login(w.supervisor)
    response = client.post(url("amendments:void", w.amendment), {"reason": "Duplicate."})
    assert response.status_code == 302
    assert response["Location"] == reverse("amendments:list", args=[w.active.pk])
    assert client.get(url("amendments:detail", w.amendment)).status_code == 404


# --- the record shows the amendment ---------------------------------------------------------


def test_the_note_page_shows_an_accepted_amendment_and_a_denied_request(w, login):
    services.accept(w.amendment, actor=w.supervisor, amendment_text="The craving was at home.")
    second = log(w, f"notes.note:{w.signed_note.pk}", change="Say I was on time.")
    services.deny(second, actor=w.supervisor, ground="accurate", explanation="You were late.")
    services.add_disagreement(second, actor=w.counsellor, text="The bus was late, not me.")
    html = (
        login(w.counsellor)
        .get(reverse("notes:detail", args=[w.active.pk, w.signed_note.pk]))
        .content.decode()
    )
    assert "The craving was at home." in html
    assert "Accepted by Supervisor Tester" in html
    assert "Say I was on time." in html and "You were late." in html
    assert "The bus was late, not me." in html
    # The signed text is still there, unchanged.
    assert "shared a craving at work" in html


def test_a_pending_request_is_noted_on_the_record(w, login):
    html = (
        login(w.counsellor)
        .get(reverse("notes:detail", args=[w.active.pk, w.signed_note.pk]))
        .content.decode()
    )
    assert "waiting for a decision" in html


def test_the_plan_version_shows_the_denial(w, login):
    client = login(w.counsellor)
    for name in ("plans:version",):
        html = client.get(reverse(name, args=[w.active.pk, w.plan.pk])).content.decode()
        assert "Remove the goal about alcohol" in html
        assert "The record is accurate and complete" in html


def test_the_assessment_and_questionnaire_pages_show_accepted_amendments(world, login):
    amendment = services.log_request(
        world.assessed,
        actor=world.intake,
        received_on=world.program.today(),
        requested_by="The participant",
        target=f"intake.assessment:{world.signed_assessment.pk}",
        requested_change="My housing is stable now.",
    )
    services.accept(amendment, actor=world.director, amendment_text="Housing: stable since May.")
    response_amendment = log(world, f"instruments.instrumentresponse:{world.response.pk}")
    services.accept(response_amendment, actor=world.director, amendment_text="Item 3 was 1.")
    client = login(world.supervisor)
    html = client.get(reverse("intake:assessment", args=[world.signed_assessment.pk]))
    assert "Housing: stable since May." in html.content.decode()
    html = client.get(reverse("measures:response", args=[world.active.pk, world.response.pk]))
    assert "Item 3 was 1." in html.content.decode()


def test_the_tag_costs_one_query_whatever_the_number_of_amendments(w, django_assert_num_queries):
    from django.template import Context, Template

    template = Template("{% load privacy_tags %}{% amendments_for note %}")
    note = Note.objects.get(pk=w.signed_note.pk)
    with django_assert_num_queries(1):
        template.render(Context({"note": note}))
    for i in range(4):
        a = log(w, f"notes.note:{note.pk}", change=f"Change {i}")
        services.accept(a, actor=w.supervisor, amendment_text=f"Amendment {i}")
    with django_assert_num_queries(1):
        html = template.render(Context({"note": note}))
    assert all(f"Amendment {i}" in html for i in range(4))


def test_the_note_pdf_carries_accepted_amendments(w, login):
    from openiop.core.pdf import pdf_text

    services.accept(w.amendment, actor=w.supervisor, amendment_text="The craving was at home.")
    response = login(w.counsellor).get(reverse("notes:pdf", args=[w.active.pk, w.signed_note.pk]))
    assert response.status_code == 200
    text = " ".join(pdf_text(response.content).split())
    assert "Amendment (accepted)" in text and "The craving was at home." in text


# --- the chart, the worklist and the today board ----------------------------------------


def test_the_chart_lists_the_requests_for_readers(w, login):
    for persona in ("counsellor", "compliance"):
        html = login(w.users[persona]).get(reverse("participants:chart", args=[w.active.pk]))
        text = html.content.decode()
        assert 'id="section-amendments"' in text, persona
        assert w.amendment.target_label in text
    text = login(w.lab).get(reverse("participants:chart", args=[w.active.pk])).content.decode()
    assert 'id="section-amendments"' not in text


def test_the_worklist_shows_waiting_requests_oldest_first_and_flags_overdue(w, login):
    late = log(w, services.OTHER, other_label="Old letter", days_ago=70)
    client = login(w.compliance)
    response = client.get(reverse("privacy:amendments"))
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [r.pk for r in rows] == [late.pk, w.amendment.pk]  # the denied one is decided
    assert rows[0].overdue and not rows[1].overdue
    assert response.context["overdue"] == 1
    assert b"Overdue" in response.content
    # Another program's director sees none of them.
    assert login(w.outsider).get(reverse("privacy:amendments")).context["rows"] == []


def test_the_worklist_runs_a_fixed_number_of_queries(w, login):
    client = login(w.compliance)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("privacy:amendments")).status_code == 200
        return len(ctx)

    few = count()
    for i in range(6):
        log(w, services.OTHER, other_label=f"Letter {i}", days_ago=i * 20)
    assert count() == few


def test_the_today_panel_shows_requests_waiting_to_deciders(w, login):
    log(w, services.OTHER, other_label="Old letter", days_ago=70)
    board = login(w.supervisor).get(reverse("core:today")).content.decode()
    assert "Amendment requests waiting" in board and "1 overdue" in board
    board = login(w.counsellor).get(reverse("core:today")).content.decode()
    assert "Amendment requests waiting" not in board


def test_the_today_panel_runs_one_query(w, rf, django_assert_num_queries):
    for i in range(5):
        log(w, services.OTHER, other_label=f"Letter {i}", days_ago=i)
    request = rf.get("/")
    request.user = w.compliance
    _ = request.user.program_ids, request.user.role_codes  # cached per request (the frame)
    with django_assert_num_queries(1):
        context = panel_context(request)
    assert context is not None and context["total"] == 6


@pytest.mark.parametrize(
    ("name", "persona", "record", "payload", "action"),
    [
        ("amendments:accept", "supervisor", "amendment", {"amendment_text": "Text."}, "amend"),
        (
            "amendments:deny",
            "compliance",
            "amendment",
            {"ground": "accurate", "explanation": "It is accurate."},
            "amend",
        ),
        ("amendments:disagreement", "counsellor", "denied_amendment", {"text": "No."}, "amend"),
        ("amendments:void", "director", "amendment", {"reason": "Duplicate."}, "void"),
    ],
)
def test_every_write_from_the_pages_is_audited_by_its_actor(
    w, login, name, persona, record, payload, action
):
    since = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    user = w.users[persona]
    response = login(user).post(url(name, w.records[record]), payload)
    assert response.status_code == 302
    event = AuditEvent.objects.filter(
        pk__gt=since, object_type="privacy.amendmentrequest", action=action
    ).get()
    assert event.actor == user and event.object_id == str(w.records[record].pk)
