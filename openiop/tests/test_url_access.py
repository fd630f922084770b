"""Every URL pattern of the project has an access rule, and the rule holds.

For each pattern: anonymous → sign-in redirect; a user without the role → 403 (with an
explanation); a user outside the program → 404; the right user → 200 and an audit
event. A URL added without a row in RULES fails `test_every_url_has_a_rule`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from openiop.core.models import AuditEvent
from openiop.testing import World

PUBLIC = {"accounts:login", "accounts:logout", "healthz", "ical_feed"}
# H1: the second sign-in step and forced enrolment are for a user between the password
# and the code (not signed in yet); without that state they send back to the sign-in page.
PUBLIC |= {"accounts:login_verify", "accounts:login_enrol"}
# H2: the end of an idle session (POST only) shows the login page, even when the server
# has already ended the session.
PUBLIC |= {"core:idle_logout"}
# Issue 9: the portal's sign-in and sign-out. The portal's own pages go through
# `portal.access.portal_view` and have their rules in test_portal_access.PORTAL_RULES.
PUBLIC |= {"portal:login", "portal:logout"}
# A: accepting a portal invitation and one-tap links: the secret in the URL is the
# credential (unknown → 404, used or expired → 410; portal.services, portal.onetap).
PUBLIC |= {"portal:accept", "onetap", "onetap_thanks"}
# D: the verification page of attendance letters, for whoever holds a letter.
PUBLIC |= {"verify_letter"}


@dataclass(frozen=True)
class Rule:
    allowed: str  # persona who gets 200
    denied: str | None  # persona who gets 403 (None: every signed-in staff member may)
    kwargs: Callable[[World], dict[str, Any]] = lambda w: {}
    outsider_404: bool = False  # is the page about a record of one program?
    audited_as: str = "view"  # the action of the audit event a GET writes (H3: an export)
    # H2: an endpoint a page's script posts to (no page of its own): a GET answers 405;
    # `test_post_only_endpoints` posts to it instead.
    post_only: bool = False


def p(name: str) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"pk": w.participants[name].pk}


def ep(name: str, **more: Any) -> Callable[[World], dict[str, Any]]:
    return lambda w: {
        "pk": w.participants[name].pk,
        "episode_pk": w.participants[name].current_episode_id,
        **more,
    }


def episode(name: str) -> Callable[[World], dict[str, Any]]:
    """Intake pages name only the episode."""
    return lambda w: {"episode_pk": w.participants[name].current_episode_id}


def track(name: str) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"pk": w.program.tracks.get(name=name).pk}


def record(name: str, kwarg: str = "pk") -> Callable[[World], dict[str, Any]]:
    return lambda w: {kwarg: w.records[name].pk}


def screen_order(name: str) -> Callable[[World], dict[str, Any]]:
    """A drug-screening order of world.active (`add_screening_orders`)."""

    def kwargs(w: World) -> dict[str, Any]:
        from openiop.testing import add_screening_orders

        add_screening_orders(w)
        return {"pk": w.active.pk, "order_pk": w.records[name].pk}

    return kwargs


def screen_panel(name: str) -> Callable[[World], dict[str, Any]]:
    """A seeded screening panel (`ensure_screening_library`)."""

    def kwargs(w: World) -> dict[str, Any]:
        from openiop.screening.models import Panel
        from openiop.testing import ensure_screening_library

        ensure_screening_library()
        return {"pk": Panel.objects.get(name=name).pk}

    return kwargs


def screen_review(kwarg: str, name: str) -> Callable[[World], dict[str, Any]]:
    """A screening review or expected medication of world.active (`add_screening_review`,
    made by the lab user)."""

    def kwargs(w: World) -> dict[str, Any]:
        from openiop.testing import add_screening_review

        add_screening_review(w)
        return {"pk": w.active.pk, kwarg: w.records[name].pk}

    return kwargs


def plan_kw(name: str) -> Callable[[World], dict[str, Any]]:
    """A treatment plan version of world.active."""
    return lambda w: {"pk": w.active.pk, "plan_pk": w.records[name].pk}


def privacy_record(name: str, kwarg: str, with_participant: bool = True):
    """A privacy record made by `add_privacy` / the lead's helpers below."""

    def kwargs(w: World) -> dict[str, Any]:
        from openiop.testing import add_privacy

        add_privacy(w)
        if name == "disclosure" and "disclosure" not in w.records:
            from openiop.privacy import gate

            w.records["disclosure"] = gate.disclose(
                gate.DisclosureRequest(
                    participant=w.active,
                    recipient_kind="employer",
                    recipient_name="Acme Logistics",
                    purpose="employment",
                    information=("attendance",),
                    channel="letter",
                    description="Attendance letter",
                ),
                actor=w.counsellor,
                document=b"%PDF-1.7",
            )
        if name == "emergency_access" and "emergency_access" not in w.records:
            from openiop.privacy import emergency

            w.records["emergency_access"] = emergency.grant(
                w.active,
                user=w.director,
                reason_kind="coverage",
                reason="Covering the caseload of a colleague",
                minutes=30,
            )
        out = {kwarg: w.records[name].pk}
        if with_participant:
            out["pk"] = w.active.pk
        return out

    return kwargs


def with_device(persona: str, kwargs: dict[str, str] | None = None):
    """H1: give `persona` a confirmed authenticator; URL kwargs name personas' pks."""

    def make(w: World) -> dict[str, Any]:
        from openiop.testing import give_totp_device

        give_totp_device(w.users[persona])
        return {k: w.users[v].pk for k, v in (kwargs or {}).items()}

    return make


def locked(persona: str):
    """H1: lock `persona` (five failed sign-ins); the URL names them."""

    def make(w: World) -> dict[str, Any]:
        from openiop.accounts import lockout

        for _ in range(5):
            lockout.record_failure(w.users[persona].username, None, lockout.PASSWORD)
        return {"pk": w.users[persona].pk}

    return make


def amendment(name: str) -> Callable[[World], dict[str, Any]]:
    """H5: an amendment request of world.active (`add_amendment`): "amendment" waiting for
    a decision, "denied_amendment" denied."""

    def kwargs(w: World) -> dict[str, Any]:
        from openiop.testing import add_amendment

        add_amendment(w)
        return {"pk": w.active.pk, "request_pk": w.records[name].pk}

    return kwargs


def letter_kw() -> Callable[[World], dict[str, Any]]:
    """D: world.active's letter request, waiting (`add_letter_request`)."""

    def kwargs(w: World) -> dict[str, Any]:
        from openiop.testing import add_letter_request

        add_letter_request(w)
        return {"pk": w.active.pk, "request_pk": w.records["letter_request"].pk}

    return kwargs


def message_kw() -> Callable[[World], dict[str, Any]]:
    """C: an outbox message to world.active (`add_message`)."""

    def kwargs(w: World) -> dict[str, Any]:
        from openiop.testing import add_message

        add_message(w)
        return {"pk": w.records["message"].pk}

    return kwargs


def portal_kw(what: str) -> Callable[[World], dict[str, Any]]:
    """A: a portal invitation ("invitation", made by the counsellor, unused) or the portal
    account (`add_portal`) of world.active."""

    def kwargs(w: World) -> dict[str, Any]:
        if what == "account":
            from openiop.testing import add_portal

            add_portal(w)
            return {"pk": w.active.pk, "account_pk": w.portal_participant.portal_account.pk}
        if "portal_invitation" not in w.records:
            from openiop.portal import services

            w.records["portal_invitation"], _raw = services.invite(
                w.active, kind="participant", channel="printed", actor=w.counsellor
            )
        return {"pk": w.active.pk, "invitation_pk": w.portal_invitation.pk}

    return kwargs


def family_kw(what: str) -> Callable[[World], dict[str, Any]]:
    """B: URL kwargs for the family pages (`add_family_portal`, `add_education`)."""

    def kwargs(w: World) -> dict[str, Any]:
        from openiop.testing import add_education, add_family_portal

        add_family_portal(w)
        if what == "session":
            return {"pk": w.family_session.pk}
        if what == "invitation":
            return {"pk": w.family_session.pk, "invitation_pk": w.family_invitation.pk}
        if what == "participant":
            return {"pk": w.active.pk}
        if what == "contact":
            return {"pk": w.active.pk, "contact_pk": w.family_contact.pk}
        add_education(w)
        return {"pk": w.article.pk}

    return kwargs


RULES: dict[str, Rule] = {
    # --- lead: privacy, releasing records, accounting, emergency access ----------------
    "participant_privacy:release": Rule("counsellor", "billing", p("active"), outsider_404=True),
    "participant_privacy:disclosure": Rule(
        "compliance",
        "billing",
        privacy_record("disclosure", "disclosure_pk"),
        outsider_404=True,
    ),
    "participant_privacy:disclosure_pdf": Rule(
        "compliance",
        "billing",
        privacy_record("disclosure", "disclosure_pk"),
        outsider_404=True,
        audited_as="export",
    ),
    "participant_privacy:accounting": Rule("compliance", "billing", p("active"), outsider_404=True),
    "participant_privacy:accounting_pdf": Rule(
        "compliance", "billing", p("active"), outsider_404=True, audited_as="export"
    ),
    "participant_privacy:break_glass": Rule(
        "counsellor", "billing", p("active"), outsider_404=True
    ),
    "privacy:disclosures": Rule("compliance", "billing"),
    "privacy:emergency_list": Rule("compliance", "counsellor"),
    "privacy:emergency_review": Rule(
        "compliance",
        "counsellor",
        privacy_record("emergency_access", "access_pk", with_participant=False),
        outsider_404=True,
    ),
    "core:today": Rule("norole", None),
    "core:audit_log": Rule("compliance", "counsellor"),
    # --- H3: the audit log's CSV export (audited as an export) and chain verification ---
    "core:audit_export": Rule("compliance", "counsellor", audited_as="export"),
    "core:audit_verify": Rule("compliance", "counsellor"),
    "core:jobs": Rule("admin", "director"),
    "accounts:password_change": Rule("norole", None),
    "accounts:password_change_done": Rule("norole", None),
    "accounts:staff_list": Rule("admin", "director"),
    "accounts:staff_new": Rule("admin", "director"),
    "accounts:staff_edit": Rule("admin", "director", lambda w: {"pk": w.counsellor.pk}),
    "programs:home": Rule("director", "counsellor"),
    "programs:program": Rule(
        "director", "counsellor", lambda w: {"pk": w.program.pk}, outsider_404=True
    ),
    "programs:create": Rule("admin", "counsellor", lambda w: {"kind_name": "site"}),
    "programs:create_in": Rule(
        "director",
        "counsellor",
        lambda w: {"kind_name": "track", "parent_pk": w.program.pk},
        outsider_404=True,
    ),
    "programs:edit": Rule(
        "director",
        "counsellor",
        lambda w: {"kind_name": "track", "pk": w.program.tracks.first().pk},
        outsider_404=True,
    ),
    "participants:list": Rule("counsellor", "norole"),
    "participants:new": Rule("intake", "lab"),
    "participants:chart": Rule("counsellor", "norole", p("referred"), outsider_404=True),
    "participants:edit": Rule("counsellor", "lab", p("referred"), outsider_404=True),
    "participants:void": Rule("director", "counsellor", p("referred"), outsider_404=True),
    "participants:episode_new": Rule("counsellor", "lab", p("referred"), outsider_404=True),
    "participants:episode_edit": Rule("counsellor", "billing", ep("referred"), outsider_404=True),
    "participants:episode_transition": Rule(
        "counsellor", "lab", ep("referred", to_status="screening"), outsider_404=True
    ),
    # --- intake: intake.view to see, intake.manage to act (a supervisor sees but does
    # not take referrals), assessment.write for ASAM assessments ---------------------
    "intake:board": Rule("intake", "lab"),
    "intake:new": Rule("intake", "supervisor"),
    "intake:referral": Rule("intake", "lab", episode("screening"), outsider_404=True),
    "intake:edit": Rule("intake", "supervisor", episode("screening"), outsider_404=True),
    "intake:contact": Rule("intake", "supervisor", episode("screening"), outsider_404=True),
    "intake:close": Rule("intake", "supervisor", episode("screening"), outsider_404=True),
    "intake:prescreen": Rule("intake", "supervisor", episode("referred"), outsider_404=True),
    # A referral without a draft (with one, the page sends the user to the draft).
    "intake:assessment_new": Rule("counsellor", "lab", episode("referred"), outsider_404=True),
    # Only a draft is edited (a signed assessment redirects to its page).
    "intake:assessment_edit": Rule(
        "counsellor", "billing", record("draft_assessment"), outsider_404=True
    ),
    "intake:assessment": Rule(
        "supervisor", "billing", record("signed_assessment"), outsider_404=True
    ),
    # Only an Assessed episode with a signed assessment answers 200 (otherwise 409).
    "intake:admit": Rule("intake", "supervisor", episode("assessed"), outsider_404=True),
    # --- measures (clinical.view to read, instrument.give to give) -----------------------
    "measures:list": Rule("counsellor", "lab", p("active"), outsider_404=True),
    "measures:give_choose": Rule("counsellor", "billing", p("active"), outsider_404=True),
    "measures:give": Rule(
        "intake", "lab", lambda w: {"pk": w.active.pk, "code": "PHQ-9"}, outsider_404=True
    ),
    "measures:response": Rule(
        "counsellor",
        "compliance",
        lambda w: {"pk": w.active.pk, "response_pk": w.response.pk},
        outsider_404=True,
    ),
    "instruments:due": Rule("counsellor", "lab"),
    "instruments:alert": Rule(
        "counsellor", "billing", record("alert", "alert_pk"), outsider_404=True
    ),
    "instruments:settings": Rule(
        "director", "counsellor", lambda w: {"program_pk": w.program.pk}, outsider_404=True
    ),
    # --- schedule (schedule.view to read, schedule.manage to book, program.configure to set up)
    "scheduling:calendar": Rule("counsellor", "billing"),
    "scheduling:session_new": Rule("intake", "lab"),
    "scheduling:session_edit": Rule(
        "counsellor", "lab", record("future_session"), outsider_404=True
    ),
    "scheduling:session_cancel": Rule(
        "counsellor", "lab", record("future_session"), outsider_404=True
    ),
    "scheduling:session_topic": Rule("counsellor", "billing", record("session"), outsider_404=True),
    "scheduling:session_book": Rule(
        "counsellor", "lab", record("future_session"), outsider_404=True
    ),
    "scheduling:template": Rule("director", "counsellor", track("Morning"), outsider_404=True),
    "scheduling:retire_slot": Rule(
        "director",
        "counsellor",
        lambda w: {"pk": w.slot.track_id, "slot_pk": w.slot.pk},
        outsider_404=True,
    ),
    "scheduling:generate": Rule("counsellor", "lab", track("Morning"), outsider_404=True),
    "scheduling:curriculum": Rule("director", "counsellor", track("Morning"), outsider_404=True),
    "scheduling:closures": Rule(
        "director", "counsellor", lambda w: {"pk": w.program.pk}, outsider_404=True
    ),
    "scheduling:remove_closure": Rule(
        "director", "counsellor", record("closure"), outsider_404=True
    ),
    "scheduling:my_feed": Rule("counsellor", "billing"),
    "schedule:participant_feed": Rule("counsellor", "lab", p("active"), outsider_404=True),
    "schedule:assign_topic": Rule(
        "counsellor",
        "billing",
        lambda w: {
            "pk": w.active.pk,
            "topic_pk": w.program.topics.get(title="Coping with cravings").pk,
        },
        outsider_404=True,
    ),
    "schedule:complete_assignment": Rule(
        "counsellor",
        "billing",
        lambda w: {"pk": w.active.pk, "assignment_pk": w.assignment.pk},
        outsider_404=True,
    ),
    # --- notes (clinical.view to read, note.write to write, note.cosign to co-sign)
    "notes_home:unsigned": Rule("counsellor", "billing"),
    # A group session with attendance taken (world.session): the start page, and the
    # autosave's "not started yet".
    "notes_home:group": Rule(
        "counsellor", "billing", record("session", "session_pk"), outsider_404=True
    ),
    "notes_home:group_autosave": Rule(
        "counsellor", "billing", record("session", "session_pk"), outsider_404=True
    ),
    "notes:new": Rule("counsellor", "billing", p("active"), outsider_404=True),
    "notes:detail": Rule(
        "counsellor",
        "billing",
        lambda w: {"pk": w.active.pk, "note_pk": w.signed_note.pk},
        outsider_404=True,
    ),
    "notes:edit": Rule(
        "counsellor",
        "billing",
        lambda w: {"pk": w.active.pk, "note_pk": w.draft_note.pk},
        outsider_404=True,
    ),
    "notes:autosave": Rule(
        "counsellor",
        "billing",
        lambda w: {"pk": w.active.pk, "note_pk": w.draft_note.pk},
        outsider_404=True,
    ),
    "notes:pdf": Rule(
        "counsellor",
        "billing",
        lambda w: {"pk": w.active.pk, "note_pk": w.signed_note.pk},
        outsider_404=True,
    ),
    "notes:cosign": Rule(
        "supervisor",
        "counsellor",
        lambda w: {"pk": w.active.pk, "note_pk": w.cosign_note.pk},
        outsider_404=True,
    ),
    # --- contacts (participant.view to read, participant.change to write)
    "contacts:list": Rule("billing", "norole", p("active"), outsider_404=True),
    "contacts:new": Rule("counsellor", "lab", p("active"), outsider_404=True),
    "contacts:edit": Rule(
        "supervisor",
        "lab",
        lambda w: {"pk": w.active.pk, "contact_pk": w.contact.pk},
        outsider_404=True,
    ),
    "contacts:void": Rule(
        "counsellor",
        "billing",
        lambda w: {"pk": w.active.pk, "contact_pk": w.contact.pk},
        outsider_404=True,
    ),
    # --- relapse-prevention plans (clinical.view to read, plan.write to write and sign)
    "relapse:current": Rule("counsellor", "billing", p("active"), outsider_404=True),
    "relapse:new": Rule("counsellor", "billing", p("active"), outsider_404=True),
    "relapse:versions": Rule("supervisor", "lab", p("active"), outsider_404=True),
    "relapse:version": Rule(
        "counsellor",
        "billing",
        lambda w: {"pk": w.active.pk, "plan_pk": w.relapse_plan.pk},
        outsider_404=True,
    ),
    "relapse:edit": Rule(
        "counsellor",
        "billing",
        lambda w: {"pk": w.active.pk, "plan_pk": w.relapse_draft.pk},
        outsider_404=True,
    ),
    "relapse:sign": Rule(
        "supervisor",
        "lab",
        lambda w: {"pk": w.active.pk, "plan_pk": w.relapse_draft.pk},
        outsider_404=True,
    ),
    "relapse:participant_sign": Rule(
        "counsellor",
        "compliance",
        lambda w: {"pk": w.active.pk, "plan_pk": w.relapse_plan.pk},
        outsider_404=True,
    ),
    "relapse:pdf": Rule(
        "counsellor",
        "billing",
        lambda w: {"pk": w.active.pk, "plan_pk": w.relapse_plan.pk},
        outsider_404=True,
    ),
    # --- attendance and check-ins
    "attendance:session": Rule("counsellor", "billing", record("session"), outsider_404=True),
    "attendance:alert": Rule(
        "counsellor", "billing", record("engagement_alert"), outsider_404=True
    ),
    "check_ins:new": Rule("counsellor", "billing", p("active"), outsider_404=True),
    # --- treatment plans (clinical.view to read, plan.write to write, sign and hand the
    # tablet, plan.approve to sign as supervisor); world.plan is signed v1, world.draft_plan
    # its v2 draft
    "plans_home:reviews": Rule("counsellor", "billing"),
    "plans:current": Rule("counsellor", "billing", p("active"), outsider_404=True),
    "plans:start": Rule("counsellor", "billing", p("active"), outsider_404=True),
    "plans:versions": Rule("supervisor", "lab", p("active"), outsider_404=True),
    "plans:version": Rule("counsellor", "billing", plan_kw("draft_plan"), outsider_404=True),
    "plans:edit": Rule("counsellor", "billing", plan_kw("draft_plan"), outsider_404=True),
    "plans:problem": Rule("counsellor", "lab", plan_kw("draft_plan"), outsider_404=True),
    "plans:goal": Rule("counsellor", "lab", plan_kw("draft_plan"), outsider_404=True),
    "plans:objective": Rule("counsellor", "lab", plan_kw("draft_plan"), outsider_404=True),
    "plans:intervention": Rule("counsellor", "lab", plan_kw("draft_plan"), outsider_404=True),
    "plans:sign": Rule("counsellor", "billing", plan_kw("draft_plan"), outsider_404=True),
    "plans:participant_sign": Rule("counsellor", "billing", plan_kw("plan"), outsider_404=True),
    "plans:signed": Rule("counsellor", "billing", plan_kw("plan"), outsider_404=True),
    "plans:supervisor_sign": Rule("supervisor", "counsellor", plan_kw("plan"), outsider_404=True),
    "plans:pdf": Rule("counsellor", "billing", plan_kw("plan"), outsider_404=True),
    # --- drug screening, the lab: today's list for lab and director only (screening.collect);
    # an order page for screening.view, a hidden random selection 404 to others -------------
    "screening:today": Rule("lab", "counsellor"),
    # --- drug screening, the selection log and its Verify action (screening.verify: lab,
    # director, supervisor, compliance; never who was selected) ---------------------------
    "screening:selection_log": Rule("lab", "counsellor"),
    "screening:selection_verify": Rule("compliance", "counsellor"),
    "participant_screening:orders": Rule("counsellor", "billing", p("active"), outsider_404=True),
    "participant_screening:order_new": Rule(
        "counsellor", "billing", p("active"), outsider_404=True
    ),
    "participant_screening:order": Rule(
        "lab", "billing", screen_order("screen_random"), outsider_404=True
    ),
    # --- drug screening, lab results imported from a file (screening.collect) -------------
    "screening:import": Rule("lab", "counsellor"),
    # --- drug screening, clinical: reviews for screening.review (not the lab), the
    # timeline and expected medications for screening.view (adding: screening.order), the
    # policy for screening.view (changing it: program.configure), statistics -------------
    "screening:reviews": Rule("counsellor", "lab"),
    "screening:policy": Rule("lab", "billing"),
    "screening:stats": Rule("director", "billing"),
    "participant_screening:review": Rule(
        "counsellor", "lab", screen_review("review_pk", "screen_review"), outsider_404=True
    ),
    "participant_screening:timeline": Rule("counsellor", "billing", p("active"), outsider_404=True),
    "participant_screening:medications": Rule("lab", "billing", p("active"), outsider_404=True),
    "participant_screening:medication_end": Rule(
        "counsellor", "compliance", screen_review("med_pk", "medication"), outsider_404=True
    ),
    # --- drug screening, panels and analytes: read with screening.view, changed with
    # program.configure; shared by every program (no outsider 404) -------------------------
    "screening:panels": Rule("counsellor", "billing"),
    "screening:panel": Rule("lab", "billing", screen_panel("12-panel urine cup")),
    "screening:analytes": Rule("director", "admin"),
    # --- H1: sign-in security. Anyone signed in manages their own two-factor sign-in; the
    # security policy, resets and unlocks need security.configure (admin) ---------------
    "accounts:mfa": Rule("norole", None),
    "accounts:mfa_enrol": Rule("norole", None),
    "accounts:mfa_codes": Rule("norole", None),
    "accounts:mfa_recovery": Rule("norole", None, with_device("norole")),
    "accounts:mfa_disable": Rule("norole", None, with_device("norole")),
    "accounts:security_policy": Rule("admin", "director"),
    "accounts:staff_mfa_reset": Rule(
        "admin", "director", with_device("counsellor", {"pk": "counsellor"})
    ),
    "accounts:staff_unlock": Rule("admin", "director", locked("counsellor")),
    # --- H2: automatic log-off. The idle script's endpoints, for anyone signed in; POST
    # only (keepalive, park a form, mark a parked form given back) ---------------------
    "core:keepalive": Rule("norole", None, post_only=True),
    "core:park": Rule("norole", None, post_only=True),
    "core:park_restored": Rule("norole", None, post_only=True),
    # --- H5: amendment requests (HIPAA §164.526). Read with clinical.view or consent.view
    # (declared in the view, see PERSONA_ANSWERS), logged and answered with a statement of
    # disagreement by amendment.record, decided and voided by amendment.decide ----------
    "amendments:list": Rule("compliance", "lab", p("active"), outsider_404=True),
    "amendments:new": Rule("counsellor", "billing", p("active"), outsider_404=True),
    "amendments:detail": Rule("compliance", "lab", amendment("amendment"), outsider_404=True),
    "amendments:accept": Rule(
        "supervisor", "counsellor", amendment("amendment"), outsider_404=True
    ),
    "amendments:deny": Rule("compliance", "counsellor", amendment("amendment"), outsider_404=True),
    "amendments:disagreement": Rule(
        "counsellor", "lab", amendment("denied_amendment"), outsider_404=True
    ),
    "amendments:void": Rule("director", "counsellor", amendment("amendment"), outsider_404=True),
    "privacy:amendments": Rule("compliance", "counsellor"),
    # --- H6: the consent registry (42 CFR §2.31). Read with consent.view; recorded,
    # revoked, voided and printed blank with consent.record; PDFs are audited as exports --
    "consents:list": Rule("compliance", "billing", p("active"), outsider_404=True),
    "consents:new": Rule("counsellor", "billing", p("active"), outsider_404=True),
    "consents:record": Rule(
        "counsellor", "lab", lambda w: {"pk": w.active.pk, "kind": "tpo"}, outsider_404=True
    ),
    "consents:blank_pdf": Rule(
        "compliance",
        "billing",
        lambda w: {"pk": w.active.pk, "kind": "specific"},
        outsider_404=True,
        audited_as="export",
    ),
    "consents:detail": Rule(
        "compliance", "billing", privacy_record("consent", "consent_pk"), outsider_404=True
    ),
    "consents:pdf": Rule(
        "counsellor",
        "lab",
        privacy_record("tpo_consent", "consent_pk"),
        outsider_404=True,
        audited_as="export",
    ),
    "consents:revoke": Rule(
        "counsellor", "billing", privacy_record("consent", "consent_pk"), outsider_404=True
    ),
    "consents:void": Rule(
        "compliance", "lab", privacy_record("consent", "consent_pk"), outsider_404=True
    ),
    "privacy:consents": Rule("compliance", "billing"),
    # --- A: the portal's staff pages (portal.invite): invite world.active, an invitation
    # (its state; withdrawing it) and ending their portal account -----------------------
    "participant_portal:invite": Rule("counsellor", "billing", p("active"), outsider_404=True),
    "participant_portal:invitation": Rule(
        "counsellor", "billing", portal_kw("invitation"), outsider_404=True
    ),
    "participant_portal:revoke": Rule(
        "counsellor", "billing", portal_kw("invitation"), outsider_404=True
    ),
    "participant_portal:end": Rule(
        "counsellor", "billing", portal_kw("account"), outsider_404=True
    ),
    # --- B: family involvement (family.manage: the family page of a family session and of
    # a participant; portal.invite: a family portal invitation; education.edit: the
    # education articles). world.family_session is world.active's family appointment with
    # the family contact invited (add_family_portal); articles by add_education ---------
    "family:session": Rule("counsellor", "billing", family_kw("session"), outsider_404=True),
    "family:cancel_invitation": Rule(
        "counsellor", "billing", family_kw("invitation"), outsider_404=True
    ),
    "participant_family:overview": Rule(
        "counsellor", "billing", family_kw("participant"), outsider_404=True
    ),
    "participant_family:portal_invite": Rule(
        "counsellor", "billing", family_kw("contact"), outsider_404=True
    ),
    "education:list": Rule("director", "counsellor"),
    "education:new": Rule("director", "counsellor"),
    "education:edit": Rule("director", "counsellor", family_kw("article"), outsider_404=True),
    "education:state": Rule("director", "counsellor", family_kw("article"), outsider_404=True),
    # --- D: attendance letters (records.disclose): the worklist, a letter from the chart,
    # a request with its produce and decline forms (a GET shows the request) ------------
    "letters:worklist": Rule("counsellor", "billing"),
    "participant_letters:new": Rule("counsellor", "billing", p("active"), outsider_404=True),
    "participant_letters:detail": Rule("compliance", "lab", letter_kw(), outsider_404=True),
    "participant_letters:produce": Rule("counsellor", "billing", letter_kw(), outsider_404=True),
    "participant_letters:decline": Rule("counsellor", "billing", letter_kw(), outsider_404=True),
    # --- C: notifications (messages.view): the outbox and one message ----------------------
    "notify:outbox": Rule("director", "counsellor"),
    "notify:message": Rule("director", "counsellor", message_kw(), outsider_404=True),
    # --- Issue 10: the outcomes dashboard (outcomes.view: figures of the user's own
    # programs, so the outsider sees its own program's), its definitions and CSVs -------
    "outcomes:dashboard": Rule("director", "counsellor"),
    "outcomes:definitions": Rule("director", "counsellor"),
    "outcomes:csv": Rule(
        "director", "counsellor", lambda w: {"figure": "census"}, audited_as="export"
    ),
}


def discharged_kw(w: World) -> dict[str, Any]:
    """world.discharged: discharged today as completed, with a draft summary."""
    from openiop.testing import add_discharge

    add_discharge(w)
    return {"pk": w.discharged.pk}


# --- Issue 10: discharge (discharge.write for the form, the signature and addenda; the
# summary and its PDF for clinical.view). The form of world.active (in care); the summary
# pages of world.discharged (a draft: the addendum page says to sign first) -------------
RULES.update(
    {
        "discharge:discharge": Rule("counsellor", "intake", p("active"), outsider_404=True),
        "discharge:summary": Rule("supervisor", "billing", discharged_kw, outsider_404=True),
        "discharge:sign": Rule("counsellor", "intake", discharged_kw, outsider_404=True),
        "discharge:addendum": Rule("counsellor", "intake", discharged_kw, outsider_404=True),
        "discharge:summary_pdf": Rule(
            "counsellor", "billing", discharged_kw, outsider_404=True, audited_as="export"
        ),
    }
)


# --- H4 (issue 10): TEDS state reporting. The items of world.active's episode (read with
# clinical.view or intake.view, declared as participant.view; recorded with teds.record);
# the export page and its files (teds.export: compliance and the director, their own
# programs, so the outsider gets its own program's records) ------------------------------
RULES.update(
    {
        "teds_items:edit": Rule("intake", "admin", p("active"), outsider_404=True),
        "teds:export": Rule("compliance", "counsellor"),
        "teds:download": Rule(
            "compliance", "counsellor", lambda w: {"kind": "admissions"}, audited_as="export"
        ),
    }
)


# --- Issue 10, aftercare (clinical.view to read, discharge.write to write; world.active's
# plan by `add_aftercare`) and alumni (alumni.follow_up: the worklist, world.alumnus's
# 30-day follow-up and the alumni event by `add_discharged`) ------------------------------


def aftercare_kw(referral: bool = False) -> Callable[[World], dict[str, Any]]:
    def kwargs(w: World) -> dict[str, Any]:
        from openiop.testing import add_aftercare

        add_aftercare(w)
        more = {"referral_pk": w.records["aftercare_referral"].pk} if referral else {}
        return {"pk": w.active.pk, **more}

    return kwargs


def alumni_kw(name: str) -> Callable[[World], dict[str, Any]]:
    def kwargs(w: World) -> dict[str, Any]:
        from openiop.testing import add_discharged

        add_discharged(w)
        return {"pk": w.records[name].pk}

    return kwargs


RULES.update(
    {
        "aftercare:plan": Rule("counsellor", "billing", aftercare_kw(), outsider_404=True),
        "aftercare:edit": Rule("counsellor", "intake", aftercare_kw(), outsider_404=True),
        "aftercare:referral_new": Rule("counsellor", "intake", aftercare_kw(), outsider_404=True),
        "aftercare:referral_edit": Rule(
            "counsellor", "intake", aftercare_kw(referral=True), outsider_404=True
        ),
        "aftercare:referral_void": Rule(
            "counsellor", "intake", aftercare_kw(referral=True), outsider_404=True
        ),
        "aftercare:give": Rule("director", "intake", aftercare_kw(), outsider_404=True),
        "aftercare:pdf": Rule(
            "supervisor", "billing", aftercare_kw(), outsider_404=True, audited_as="export"
        ),
        "alumni:worklist": Rule("counsellor", "billing"),
        "alumni:follow_up": Rule("intake", "lab", alumni_kw("follow_up"), outsider_404=True),
        "alumni:attempt": Rule("counsellor", "billing", alumni_kw("follow_up"), outsider_404=True),
        "alumni:close": Rule("counsellor", "billing", alumni_kw("follow_up"), outsider_404=True),
        "alumni:events": Rule("supervisor", "compliance"),
        "alumni:event_new": Rule("counsellor", "billing"),
        "alumni:event": Rule("counsellor", "billing", alumni_kw("alumni_event"), outsider_404=True),
        "alumni:event_attendance": Rule(
            "director", "billing", alumni_kw("alumni_event"), outsider_404=True
        ),
        "alumni:event_cancel": Rule(
            "counsellor", "billing", alumni_kw("alumni_event"), outsider_404=True
        ),
    }
)


# --- Issue 11, helper A: claims (billing.view to read, billing.manage to build, submit
# and record answers). world.claim is a draft of world.active's billable day
# (`add_claim`); world.claim_batch is the claim file it went out in (`add_claim_batch`) --
def claim_kw(batch: bool = False) -> Callable[[World], dict[str, Any]]:
    def kwargs(w: World) -> dict[str, Any]:
        from openiop.testing import add_claim, add_claim_batch

        if batch:
            add_claim_batch(w)  # the claim submitted, so it can be marked paid or denied
        else:
            add_claim(w)
        return {"pk": w.records["claim"].pk}

    return kwargs


def batch_kw(w: World) -> dict[str, Any]:
    """The claim file world.claim went out in (its own primary key, not the claim's:
    on PostgreSQL the two differ)."""
    from openiop.testing import add_claim_batch

    add_claim_batch(w)
    return {"pk": w.records["claim_batch"].pk}


RULES.update(
    {
        "billing:claims": Rule("billing", "counsellor"),
        "billing:claims_csv": Rule("billing", "counsellor", audited_as="export"),
        "billing:build": Rule("billing", "director"),
        "billing:submit": Rule("billing", "director"),
        "billing:claim": Rule("director", "counsellor", claim_kw(), outsider_404=True),
        "billing:claim_submit": Rule("billing", "director", claim_kw()),
        "billing:claim_paid": Rule("billing", "director", claim_kw(batch=True)),
        "billing:claim_denied": Rule("billing", "director", claim_kw(batch=True)),
        "billing:claim_void": Rule("billing", "director", claim_kw()),
        "billing:batch": Rule("director", "counsellor", batch_kw, outsider_404=True),
        "billing:batch_download": Rule("billing", "director", batch_kw, audited_as="export"),
    }
)

# --- Issue 11, helper C: the billing board, days of service and days at risk
# (billing.view: the director and billing; the CSV is an export), and world.active's
# concurrent-review packet of world.authorisation (review.packet: director, counsellor,
# supervisor, billing; intake has coverage.view but not this) --------------------------


def packet_kw(made: bool = False) -> Callable[[World], dict[str, Any]]:
    def kwargs(w: World) -> dict[str, Any]:
        from openiop.testing import add_review_packet, add_review_packet_story

        if made:
            add_review_packet(w)
            return {"pk": w.active.pk, "packet_pk": w.records["review_packet"].pk}
        add_review_packet_story(w)
        return {"pk": w.active.pk, "auth_pk": w.records["authorisation"].pk}

    return kwargs


RULES.update(
    {
        "billing:board": Rule("billing", "counsellor"),
        "billing:days": Rule("director", "counsellor"),
        "billing:risks": Rule("billing", "intake"),
        "billing:risks_csv": Rule("billing", "counsellor", audited_as="export"),
        "coverage:packet": Rule("counsellor", "intake", packet_kw(), outsider_404=True),
        "coverage:packet_pdf": Rule(
            "billing", "intake", packet_kw(made=True), outsider_404=True, audited_as="export"
        ),
    }
)


# --- Issue 11 (B): billing set-up (billing.view reads the lists; billing.manage changes
# them; the outsider, a director elsewhere, may read but not manage: 403) and a
# participant's coverage and authorisations (coverage.view to read, coverage.record to
# change; world.active's billing by `add_billing`) --------------------------------------


def billing_kw(name: str = "", kwarg: str = "pk") -> Callable[[World], dict[str, Any]]:
    def kwargs(w: World) -> dict[str, Any]:
        from openiop.testing import add_sliding_fee

        add_sliding_fee(w)
        return {kwarg: w.records[name].pk} if name else {}

    return kwargs


def coverage_kw(name: str = "", kwarg: str = "") -> Callable[[World], dict[str, Any]]:
    def kwargs(w: World) -> dict[str, Any]:
        from openiop.testing import add_billing

        add_billing(w)
        return {"pk": w.active.pk, **({kwarg: w.records[name].pk} if name else {})}

    return kwargs


RULES.update(
    {
        "billing:payers": Rule("billing", "counsellor", billing_kw()),
        "billing:payer_new": Rule("billing", "director", billing_kw()),
        "billing:payer_edit": Rule("billing", "director", billing_kw("payer")),
        "billing:payer_retire": Rule("billing", "director", billing_kw("payer")),
        "billing:profile": Rule("director", "counsellor", billing_kw()),
        "billing:sliding_fee": Rule("billing", "supervisor", billing_kw()),
        "billing:tier_retire": Rule("billing", "director", billing_kw("sliding_tier")),
        "coverage:overview": Rule("counsellor", "lab", coverage_kw(), outsider_404=True),
        "coverage:coverage_new": Rule("intake", "counsellor", coverage_kw(), outsider_404=True),
        "coverage:coverage_edit": Rule(
            "billing", "counsellor", coverage_kw("coverage", "coverage_pk"), outsider_404=True
        ),
        "coverage:coverage_void": Rule(
            "billing", "supervisor", coverage_kw("coverage", "coverage_pk"), outsider_404=True
        ),
        "coverage:authorisation_new": Rule(
            "billing", "counsellor", coverage_kw(), outsider_404=True
        ),
        "coverage:authorisation_edit": Rule(
            "intake", "counsellor", coverage_kw("authorisation", "auth_pk"), outsider_404=True
        ),
        "coverage:authorisation_void": Rule(
            "billing", "lab", coverage_kw("authorisation", "auth_pk"), outsider_404=True
        ),
        "coverage:authorisation_renew": Rule(
            "billing", "supervisor", coverage_kw("authorisation", "auth_pk"), outsider_404=True
        ),
    }
)


# --- Issue 12 (H5): the API clients' pages (api.clients: administrators for every program,
# directors for their own; the outsider, a director elsewhere, gets 404 for Harbor's
# client). `api_client_kw` registers a client of world.program with one token ----------


def api_client_kw(token: bool = False) -> Callable[[World], dict[str, Any]]:
    def kwargs(w: World) -> dict[str, Any]:
        from openiop.fhir.models import ApiToken
        from openiop.fhir.testing import make_client, make_token

        if "api_client" not in w.records:
            w.records["api_client"], _secret = make_client(w.program, name="Warehouse")
            make_token(w.records["api_client"])
        client = w.records["api_client"]
        out = {"pk": client.pk}
        if token:
            out["token_pk"] = ApiToken.objects.filter(client=client).first().pk
        return out

    return kwargs


RULES.update(
    {
        "api_clients:list": Rule("admin", "counsellor"),
        "api_clients:new": Rule("director", "billing"),
        "api_clients:detail": Rule("admin", "counsellor", api_client_kw(), outsider_404=True),
        "api_clients:credentials": Rule(
            "director", "compliance", api_client_kw(), outsider_404=True
        ),
        "api_clients:new_secret": Rule("admin", "supervisor", api_client_kw(), outsider_404=True),
        "api_clients:retire": Rule("director", "intake", api_client_kw(), outsider_404=True),
        "api_clients:revoke_all": Rule("admin", "lab", api_client_kw(), outsider_404=True),
        "api_clients:revoke_token": Rule(
            "director", "billing", api_client_kw(token=True), outsider_404=True
        ),
    }
)


def all_url_names() -> dict[str, Any]:
    names: dict[str, Any] = {}

    def walk(patterns: list[Any], namespace: str | None) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                ns = entry.namespace or namespace
                if namespace and entry.namespace:
                    ns = f"{namespace}:{entry.namespace}"
                walk(entry.url_patterns, ns)
            elif isinstance(entry, URLPattern):
                assert entry.name, f"URL pattern {entry.pattern} has no name"
                full = f"{namespace}:{entry.name}" if namespace else entry.name
                names[full] = entry.callback

    walk(get_resolver().url_patterns, None)
    return names


def portal_names() -> set[str]:
    from openiop.tests.test_portal_access import PORTAL_RULES

    return set(PORTAL_RULES)


def api_names() -> set[str]:
    """Issue 12: the FHIR API authenticates with bearer tokens, not sessions; its rules
    (no token 401, scope 403, other program 404, audited) are in fhir/tests/test_access."""
    from openiop.fhir.tests.test_access import API_RULES

    return set(API_RULES)


def test_every_url_has_a_rule():
    names = all_url_names()
    missing = set(names) - set(RULES) - PUBLIC - portal_names() - api_names()
    assert not missing, f"URL patterns without an access rule in RULES: {sorted(missing)}"
    assert not (set(RULES) - set(names)), "RULES names URLs that no longer exist"


def test_every_protected_view_declares_its_permission():
    for name, callback in all_url_names().items():
        if name in PUBLIC:
            assert getattr(callback, "openiop_public", False), f"{name} is not marked public"
        elif name in portal_names():
            assert getattr(
                callback, "openiop_portal_view", False
            ), f"{name} does not go through portal.access.portal_view"
        elif name in api_names():
            assert getattr(
                callback, "openiop_api_view", False
            ), f"{name} does not go through fhir.api.api_view"
        else:
            assert getattr(
                callback, "openiop_staff_view", False
            ), f"{name} does not go through core.access.staff_view"


@pytest.mark.parametrize("name", sorted(RULES))
def test_anonymous_is_sent_to_sign_in(client, world, name):
    url = reverse(name, kwargs=RULES[name].kwargs(world))
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("name", sorted(n for n, r in RULES.items() if r.denied))
def test_user_without_the_role_gets_403_with_an_explanation(login, world, name):
    rule = RULES[name]
    client = login(world.users[rule.denied])
    response = client.get(reverse(name, kwargs=rule.kwargs(world)))
    assert response.status_code == 403
    assert b"Ask an administrator" in response.content or b"Only an administrator" in (
        response.content
    )


@pytest.mark.parametrize("name", sorted(n for n, r in RULES.items() if r.outsider_404))
def test_user_outside_the_program_gets_404(login, world, name):
    client = login(world.outsider)
    response = client.get(reverse(name, kwargs=RULES[name].kwargs(world)))
    assert response.status_code == 404


@pytest.mark.parametrize("name", sorted(n for n, r in RULES.items() if not r.post_only))
def test_right_user_gets_the_page_and_an_audit_event(login, world, name):
    rule = RULES[name]
    user = world.users[rule.allowed]
    client = login(user)
    before = AuditEvent.objects.filter(actor=user).count()
    response = client.get(reverse(name, kwargs=rule.kwargs(world)))
    assert response.status_code == 200, response.content[:500]
    assert AuditEvent.objects.filter(actor=user).count() > before
    event = AuditEvent.objects.filter(actor=user).latest("id")
    assert event.action == rule.audited_as
    assert event.client_ip == "127.0.0.1"
    assert event.request_id


def test_public_pages_answer_anonymous(client, db):
    assert client.get(reverse("accounts:login")).status_code == 200
    assert client.get(reverse("healthz")).json() == {"status": "ok"}


@pytest.mark.parametrize(
    ("name", "persona", "kwargs", "status", "to"),
    [
        # Admission follows a signed assessment of an Assessed episode.
        ("intake:admit", "intake", episode("screening"), 409, None),
        ("intake:admit", "intake", episode("active"), 409, None),
        # Closing, screening, editing and logging contact are for open referrals.
        ("intake:close", "intake", episode("active"), 409, None),
        ("intake:prescreen", "intake", episode("active"), 409, None),
        ("intake:edit", "intake", episode("active"), 409, None),
        ("intake:contact", "intake", episode("active"), 409, None),
        # A new assessment beside a draft opens the draft; a signed one is not edited.
        (
            "intake:assessment_new",
            "counsellor",
            episode("screening"),
            302,
            lambda w: reverse("intake:assessment_edit", args=[w.draft_assessment.pk]),
        ),
        (
            "intake:assessment_edit",
            "counsellor",
            record("signed_assessment"),
            302,
            lambda w: reverse("intake:assessment", args=[w.signed_assessment.pk]),
        ),
        # An instrument the catalogue does not know.
        ("measures:give", "counsellor", lambda w: {"pk": w.active.pk, "code": "NOPE"}, 404, None),
        # Today's random selection, not collected yet, is hidden from the counsellor.
        ("participant_screening:order", "counsellor", screen_order("screen_random"), 404, None),
        ("participant_screening:order", "counsellor", screen_order("screen_collected"), 200, None),
        # Tests are ordered for participants in care.
        ("participant_screening:order_new", "counsellor", p("referred"), 409, None),
        # H1: nothing to make codes for or to turn off; a role that must keep it; nobody
        # locked, no device to reset; set-up when it is already on; a code page without
        # a password step.
        ("accounts:mfa_recovery", "norole", lambda w: {}, 409, None),
        ("accounts:mfa_disable", "norole", lambda w: {}, 409, None),
        ("accounts:mfa_disable", "compliance", with_device("compliance"), 409, None),
        ("accounts:staff_unlock", "admin", lambda w: {"pk": w.counsellor.pk}, 409, None),
        ("accounts:staff_mfa_reset", "admin", lambda w: {"pk": w.counsellor.pk}, 409, None),
        (
            "accounts:mfa_enrol",
            "norole",
            with_device("norole"),
            302,
            lambda w: reverse("accounts:mfa"),
        ),
        ("accounts:login_verify", "norole", lambda w: {}, 302, lambda w: reverse("accounts:login")),
        ("accounts:login_enrol", "norole", lambda w: {}, 302, lambda w: reverse("accounts:login")),
    ],
)
def test_pages_that_depend_on_the_state_of_the_record(
    login, world, name, persona, kwargs, status, to
):
    client = login(world.users[persona])
    response = client.get(reverse(name, kwargs=kwargs(world)))
    assert response.status_code == status
    if to:
        assert response["Location"] == to(world)


# --- H4: every persona on every page (issue 8, acceptance 6) ------------------------------
# The page's declared permission (`staff_view(Perm.X)`, read from the URL's callback) and
# the persona's roles (`ROLE_PERMISSIONS`) decide the answer: without the permission, 403
# with an explanation; with it, the page (200) unless the page is about a record outside
# the persona's programs (404, `outsider_404`) or PERSONA_ANSWERS below says otherwise.
# Never a 500. One world per URL; the personas are looped inside.

# (url name, persona) → (status, why): answers other than 200 for a persona who holds the
# page's permission. Each needs a reason a reviewer can check.
_HIDDEN_RANDOM = (404, "today's random selection is hidden until collected (screening.collect)")
_NOT_THEIR_REVIEW = (404, "the review is assigned to the counsellor and not escalated")
_SITE_IS_ADMINS = (403, "adding a site is an administrator's task (programs.views.create)")
PERSONA_ANSWERS: dict[tuple[str, str], tuple[int, str]] = {
    # H5: the amendment pages for readers declare no single permission (clinical.view or
    # consent.view, checked in amendment_views.reader_view): these roles hold neither.
    **{
        (name, persona): (403, "holds neither clinical.view nor consent.view")
        for name in ("amendments:list", "amendments:detail")
        for persona in ("admin", "billing", "lab", "norole")
    },
    **{
        ("participant_screening:order", persona): _HIDDEN_RANDOM
        for persona in ("counsellor", "intake", "supervisor", "supervisee")
    },
    **{
        ("participant_screening:review", persona): _NOT_THEIR_REVIEW
        for persona in ("director", "supervisor", "supervisee")
    },
    # C: the administrator reads the outbox but is in no program: no participant's message.
    ("notify:message", "admin"): (404, "in no program, so no participant's messages"),
    ("programs:create", "director"): _SITE_IS_ADMINS,
    ("programs:create", "outsider"): _SITE_IS_ADMINS,
    # H1: the rule gives only norole an authenticator; the others have no recovery codes
    # to remake and nothing to turn off (409 with the reason).
    **{
        (name, persona): (409, "no authenticator of their own")
        for name in ("accounts:mfa_recovery", "accounts:mfa_disable")
        for persona in (
            *("admin", "billing", "compliance", "counsellor", "director"),
            *("intake", "lab", "outsider", "supervisee", "supervisor"),
        )
    },
}

# H4: the TEDS items page declares participant.view and then asks for clinical.view or
# intake.view (intake.teds_views._participant): these roles hold neither.
PERSONA_ANSWERS.update(
    {
        ("teds_items:edit", persona): (403, "holds neither clinical.view nor intake.view")
        for persona in ("billing", "compliance", "lab")
    }
)


def expected_answer(name: str, rule: Rule, persona: str, perms: frozenset[str], perm: str | None):
    """(status, why) for `persona` on the page `name`."""
    if perm is not None and perm not in perms:
        return 403, f"lacks {perm}"
    if rule.post_only:
        return 405, "answers POST only (H2)"
    if (name, persona) in PERSONA_ANSWERS:
        return PERSONA_ANSWERS[(name, persona)]
    if persona == "outsider" and rule.outsider_404:
        return 404, "the record is in another program"
    return 200, f"holds {perm or 'a sign-in'}"


@pytest.mark.parametrize("name", sorted(RULES))
def test_every_persona_gets_the_answer_its_permissions_give(client, world, name):
    from openiop.core.roles import permissions_for

    rule = RULES[name]
    perm = getattr(all_url_names()[name], "openiop_perm", None)
    url = reverse(name, kwargs=rule.kwargs(world))
    wrong = []
    for persona, user in sorted(world.users.items()):
        perms = permissions_for(user.role_assignments.values_list("role", flat=True))
        status, why = expected_answer(name, rule, persona, perms, perm)
        client.force_login(user)
        response = client.get(url)
        assert response.status_code != 500, f"{persona}: 500 on {url}"
        if response.status_code != status:
            wrong.append(f"{persona}: {response.status_code}, expected {status} ({why})")
        elif status == 403 and not (
            b"Ask an administrator" in response.content
            or b"Only an administrator" in response.content
        ):
            wrong.append(f"{persona}: 403 without an explanation")
    assert not wrong, f"{name} ({perm}): " + "; ".join(wrong)


# --- H2: POST-only endpoints (the idle script's) ------------------------------------------
# Anonymous: the sign-in page (test_anonymous_is_sent_to_sign_in, by GET and here by POST);
# signed in: a GET is 405, a POST is answered in JSON without an error of the server.


@pytest.mark.parametrize("name", sorted(n for n, r in RULES.items() if r.post_only))
def test_post_only_endpoints(client, world, name):
    rule = RULES[name]
    url = reverse(name, kwargs=rule.kwargs(world))
    response = client.post(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    client.force_login(world.users[rule.allowed])
    assert client.get(url).status_code == 405
    response = client.post(url)
    assert response.status_code in (200, 400, 404), response.content[:500]
    assert response["Content-Type"] == "application/json"


def test_the_idle_logout_answers_post_only(client, db):
    assert client.get(reverse("core:idle_logout")).status_code == 405
    response = client.post(reverse("core:idle_logout"))
    assert response["Location"].startswith(reverse("accounts:login"))
