"""Issue 9, acceptance 3: every notification template, rendered in English and Spanish
with the richest data a participant can have, carries no clinical terms or results — a
list of forbidden words plus the participant's own diagnoses, program, sessions,
instruments, screening panels and medications. And the check can fail."""

from __future__ import annotations

from pathlib import Path

import pytest

from openiop.notify import render
from openiop.notify.models import Preference

from .forbidden import clinical_terms_in, participant_terms, produce_every_message

TEMPLATE_DIR = Path(render.__file__).parent / "templates" / "notify" / "messages"


def test_every_template_file_is_listed_and_every_listed_template_has_both_files():
    files = {p.name for p in TEMPLATE_DIR.iterdir()}
    listed = set(render.TEMPLATES)
    names = {n.removesuffix(".subject.txt").removesuffix(".txt") for n in files}
    assert names == listed
    for name in listed:
        assert {f"{name}.txt", f"{name}.subject.txt"} <= files


@pytest.mark.parametrize("language", ["en", "es"])
def test_no_message_says_anything_clinical(world, language):
    produced = produce_every_message(world, language=language)
    # Every template was made, and everything queued went out.
    assert {p.template for p in produced} == set(render.TEMPLATES)
    assert all(p.sent for p in produced), [(p.template, p.stored) for p in produced if not p.sent]
    extra = participant_terms(world.active)
    assert "F10.20" in extra and "Opioid" in extra and world.program.name in extra
    problems = []
    for p in produced:
        for text in (p.subject, p.stored, p.sent):
            hits = clinical_terms_in(text, extra)
            if hits:
                problems.append(f"{p.template} ({p.language}): {hits} in {text!r}")
    assert not problems, "\n".join(problems)
    # Messages came out in the person's language (the first family invitation was made
    # before the family member's account had one; staff email is in English).
    languages = {p.language for p in produced[1:] if p.template != "staff_digest"}
    assert produced[0].template == "family_session_invite"
    assert languages == {language}


def test_a_message_in_spanish_has_spanish_dates(world):
    produced = produce_every_message(world, language="es")
    reminder = next(p for p in produced if p.template == "session_reminder")
    days = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
    assert any(day in reminder.stored for day in days), reminder.stored


def test_the_program_name_appears_only_when_the_participant_opts_in(world):
    Preference.objects.create(participant=world.active, show_program_name=True)
    produced = produce_every_message(world)
    own = [p for p in produced if p.template in ("screen_call_in", "letter_ready")]
    assert own and all(world.program.name in p.sent for p in own)
    # Opted in, the name is allowed; nothing else clinical is.
    extra = participant_terms(world.active, include_program=False)
    allowed = {"IOP"}  # part of the program's name the participant chose to show
    for p in own:
        text = p.sent.replace(world.program.name, "")
        assert not [h for h in clinical_terms_in(text, extra) if h not in allowed]


def test_without_the_opt_in_messages_are_signed_by_the_care_team(world):
    produced = produce_every_message(world)
    call_in = next(p for p in produced if p.template == "screen_call_in")
    assert "Your care team" in call_in.sent
    assert world.program.name not in call_in.sent
    family = next(p for p in produced if p.template == "family_session_invite")
    assert f"{world.active.preferred_name or world.active.legal_first_name}'s care team" in (
        family.sent
    )


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("Your drug screen result is positive.", "drug"),
        ("Reminder: group therapy at 9", "therapy"),
        ("See you at Harbor IOP tomorrow", "IOP"),
        ("Su prueba de orina salió negativa", "prueba"),
        ("Cita de tratamiento mañana", "tratamiento"),
        ("Diagnóstico: F10.20", "diagnos"),
        ("Your counsellor says hi", "counsel"),
    ],
)
def test_the_checker_catches_a_planted_word(text, term):
    assert term in clinical_terms_in(text)


def test_the_checker_catches_the_participants_own_terms(world):
    from .forbidden import tempt

    tempt(world, language="en")
    extra = participant_terms(world.active)
    assert "F10.20" in clinical_terms_in("Code F10.20 today", extra)
    assert world.program.name in clinical_terms_in(f"Welcome to {world.program.name}", extra)
    assert clinical_terms_in("Hello Pat, see you tomorrow at 9 a.m.", extra) == []


def test_the_checker_ignores_the_random_token_of_a_link():
    assert clinical_terms_in("Tap https://x.example/t/ab-IOP-drug_cd") == []


def test_a_template_that_says_too_much_is_caught(world, tmp_path, monkeypatch):
    """The whole test can fail: plant a clinical word in one template and it is found."""
    planted = tmp_path / "notify" / "messages"
    planted.mkdir(parents=True)
    for path in TEMPLATE_DIR.iterdir():
        (planted / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    (planted / "screen_call_in.txt").write_text(
        "Hello {{ first_name }}, you were picked for a drug test today.\n— {{ sender }}",
        encoding="utf-8",
    )
    from django.template import Engine

    engine = Engine(
        dirs=[str(tmp_path)], autoescape=False, libraries={"i18n": "django.templatetags.i18n"}
    )
    monkeypatch.setattr(render, "ENGINE", engine)
    produced = produce_every_message(world)
    extra = participant_terms(world.active)
    hits = {p.template: clinical_terms_in(p.sent, extra) for p in produced}
    assert hits["screen_call_in"] == ["drug", "drug test"]
    assert not any(h for t, h in hits.items() if t != "screen_call_in")
