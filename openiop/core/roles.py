"""The permission catalogue and the roles built from it.

One place says what each permission lets a person do and which roles hold it. Views,
services and templates ask `user.has_perm_code(Perm.X)`; no code compares role names.
Later areas add permissions here (with a description) rather than inventing checks.
"""

from __future__ import annotations

from django.db import models


class Perm(models.TextChoices):
    """Every permission in OpenIOP. The label is the description shown to admins."""

    PARTICIPANT_VIEW = "participant.view", "See participant identity, contact and episode status"
    PARTICIPANT_CREATE = "participant.create", "Register new participants"
    PARTICIPANT_CHANGE = "participant.change", "Edit participant demographics and contacts"
    PARTICIPANT_VOID = "participant.void", "Void a participant record created in error"
    EPISODE_CHANGE = "episode.change", "Edit an episode's level of care, track and care team"
    EPISODE_TRANSITION = "episode.transition", "Move an episode through its lifecycle"
    CLINICAL_VIEW = "clinical.view", "See clinical information (assessments, plans, notes)"
    SCREENING_VIEW = "screening.view", "See drug-screening orders and results"
    BILLING_VIEW = "billing.view", "See coverage, authorisations and billing"
    ATTENDANCE_VIEW = "attendance.view", "See attendance and hours"
    AUDIT_VIEW = "audit.view", "Read the audit log"
    CONSENT_VIEW = "consent.view", "See consents and disclosures"
    PROGRAM_CONFIGURE = "program.configure", "Set up sites, programs, tracks, rooms and curriculum"
    USERS_MANAGE = "users.manage", "Create staff accounts and assign roles and programs"
    JOBS_VIEW = "jobs.view", "See background job runs and failures"
    INTAKE_VIEW = "intake.view", "See the referral pipeline and referral details"
    INTAKE_MANAGE = "intake.manage", "Take referrals, log contact, screen, close and admit"
    ASSESSMENT_WRITE = "assessment.write", "Write and sign ASAM assessments"
    INSTRUMENT_GIVE = "instrument.give", "Give instruments and record the answers"
    SAFETY_RESPOND = "safety.respond", "Document the clinical response to a safety alert"
    SCHEDULE_VIEW = "schedule.view", "See the program calendar and session rosters"
    SCHEDULE_MANAGE = (
        "schedule.manage",
        "Generate sessions, book appointments and walk-ins, cancel sessions",
    )
    NOTE_WRITE = "note.write", "Write and sign progress notes and addenda"
    NOTE_COSIGN = "note.cosign", "Co-sign the notes of supervisees"
    PLAN_WRITE = (
        "plan.write",
        "Write and sign treatment and relapse-prevention plans; take the participant's signature",
    )
    PLAN_APPROVE = "plan.approve", "Sign treatment plans as the clinical supervisor"
    SCREENING_COLLECT = (
        "screening.collect",
        "See today's random drug-screening list; record collections, custody and results",
    )
    SCREENING_ORDER = "screening.order", "Order for-cause drug screens; keep expected medications"
    SCREENING_REVIEW = (
        "screening.review",
        "Review unexpected screening results and record what changed in the plan",
    )
    SCREENING_VERIFY = (
        "screening.verify",
        "Verify a past day's random selection from its revealed seed",
    )
    ATTENDANCE_TAKE = (
        "attendance.take",
        "Take attendance, record check-ins, answer engagement alerts",
    )
    # Privacy and security (issue 8).
    CONSENT_RECORD = "consent.record", "Record and revoke 42 CFR Part 2 consents"
    RECORDS_DISCLOSE = (
        "records.disclose",
        "Release records (letters, printed records) through the consent gate",
    )
    EMERGENCY_ACCESS = (
        "emergency.access",
        "Open a chart outside one's care team in an emergency (break-the-glass)",
    )
    EMERGENCY_REVIEW = "emergency.review", "Review emergency accesses"
    AMENDMENT_RECORD = "amendment.record", "Log a participant's request to amend their record"
    AMENDMENT_DECIDE = "amendment.decide", "Accept or deny amendment requests"
    SECURITY_CONFIGURE = (
        "security.configure",
        "Set the sign-in policy (MFA per role) and unlock staff accounts",
    )
    # Issue 9: the portal, family involvement, letters and messages.
    PORTAL_INVITE = (
        "portal.invite",
        "Invite participants and consented family members to the portal; end portal access",
    )
    FAMILY_MANAGE = (
        "family.manage",
        "Invite family members to family sessions and workshops and take their attendance",
    )
    EDUCATION_EDIT = "education.edit", "Write the education material families and participants read"
    MESSAGES_VIEW = "messages.view", "See the outbox of reminders and notices sent to people"
    # Issue 10: discharge, aftercare, alumni follow-up, outcomes and state reporting.
    DISCHARGE_WRITE = (
        "discharge.write",
        "Discharge participants; write and sign discharge summaries and aftercare plans",
    )
    ALUMNI_FOLLOW_UP = (
        "alumni.follow_up",
        "Call alumni for their follow-ups and record what they say; run alumni events",
    )
    OUTCOMES_VIEW = "outcomes.view", "See the program's outcomes dashboard (figures, no names)"
    TEDS_RECORD = "teds.record", "Record the TEDS state-reporting items of an admission"
    TEDS_EXPORT = "teds.export", "Export TEDS admission and discharge records for the state"
    # Issue 11: billing.
    COVERAGE_VIEW = (
        "coverage.view",
        "See a participant's insurance coverage and authorisations with days left",
    )
    COVERAGE_RECORD = (
        "coverage.record",
        "Record coverage, benefits verification and payer authorisations",
    )
    BILLING_MANAGE = (
        "billing.manage",
        "Set up payers and the billing profile; build, submit and follow up claims",
    )
    REVIEW_PACKET = (
        "billing.review_packet",
        "Prepare concurrent-review packets for payers (through the consent gate)",
    )
    # Issue 12: the FHIR API's clients (their scopes, consent recipient and credentials).
    API_CLIENTS_MANAGE = "api.clients", "Register API clients and issue their credentials"


class Role(models.TextChoices):
    DIRECTOR = "director", "Program director"
    INTAKE = "intake", "Intake coordinator"
    COUNSELLOR = "counsellor", "Counsellor"
    SUPERVISOR = "supervisor", "Clinical supervisor"
    LAB = "lab", "Lab / nurse"
    BILLING = "billing", "Billing"
    COMPLIANCE = "compliance", "Compliance officer"
    ADMIN = "admin", "Administrator"


_CLINICAL_READ = {
    Perm.PARTICIPANT_VIEW,
    Perm.CLINICAL_VIEW,
    Perm.SCREENING_VIEW,
    Perm.ATTENDANCE_VIEW,
    Perm.INTAKE_VIEW,
    Perm.CONSENT_VIEW,
}
# Clinicians record consents, release records through the consent gate, log amendment
# requests and may break the glass (issue 8).
_PRIVACY_WORK = {
    Perm.CONSENT_RECORD,
    Perm.RECORDS_DISCLOSE,
    Perm.AMENDMENT_RECORD,
    Perm.EMERGENCY_ACCESS,
    # Issue 9: portal invitations (a family member's needs a consent in force).
    Perm.PORTAL_INVITE,
}
# Clinicians assess, measure and respond to risk; intake coordinators assess and measure
# but a safety response is a clinician's (issue 4, point 5).
_CLINICAL_WORK = {
    Perm.ASSESSMENT_WRITE,
    Perm.INSTRUMENT_GIVE,
    Perm.SAFETY_RESPOND,
    Perm.NOTE_WRITE,
    Perm.PLAN_WRITE,
    Perm.SCREENING_ORDER,
    Perm.SCREENING_REVIEW,
}
# Running groups: the calendar, booking, attendance and check-ins (issue 5); with issue 9
# the family sessions and workshops and their family attendance.
_GROUP_WORK = {
    Perm.SCHEDULE_VIEW,
    Perm.SCHEDULE_MANAGE,
    Perm.ATTENDANCE_TAKE,
    Perm.FAMILY_MANAGE,
}
# Issue 10: discharge, the summary and aftercare plan, and alumni follow-up and events.
_AFTER_DISCHARGE = {Perm.DISCHARGE_WRITE, Perm.ALUMNI_FOLLOW_UP}
# Issue 11: clinicians see the days an authorisation has left and prepare the concurrent
# review packet; intake and billing record coverage and authorisations.
_UTILISATION_REVIEW = {Perm.COVERAGE_VIEW, Perm.REVIEW_PACKET}

# Each role sees what its work needs (issue 3, point 7): lab sees identity and screening;
# billing sees coverage, attendance and billing but not clinical notes; compliance sees
# audit and consents; admin runs the system but reads no clinical record.
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.DIRECTOR: frozenset(
        _CLINICAL_READ
        | {
            Perm.PARTICIPANT_CREATE,
            Perm.PARTICIPANT_CHANGE,
            Perm.PARTICIPANT_VOID,
            Perm.EPISODE_CHANGE,
            Perm.EPISODE_TRANSITION,
            Perm.BILLING_VIEW,
            Perm.PROGRAM_CONFIGURE,
            Perm.INTAKE_MANAGE,
        }
        | _CLINICAL_WORK
        | _GROUP_WORK
        | {Perm.NOTE_COSIGN, Perm.PLAN_APPROVE}
        | {Perm.SCREENING_COLLECT, Perm.SCREENING_VERIFY}
        | _PRIVACY_WORK
        | {Perm.AMENDMENT_DECIDE, Perm.EMERGENCY_REVIEW}
        | {Perm.EDUCATION_EDIT, Perm.MESSAGES_VIEW}
        | _AFTER_DISCHARGE
        | {Perm.OUTCOMES_VIEW, Perm.TEDS_RECORD, Perm.TEDS_EXPORT}
        | _UTILISATION_REVIEW
        | {Perm.COVERAGE_RECORD}
        # Issue 12: the director answers for the program's disclosures and signs its
        # agreements with the organisations behind outside API clients (their own
        # programs only; administrators, in no program, register them for any).
        | {Perm.API_CLIENTS_MANAGE}
    ),
    Role.INTAKE: frozenset(
        _CLINICAL_READ
        | {
            Perm.PARTICIPANT_CREATE,
            Perm.PARTICIPANT_CHANGE,
            Perm.EPISODE_CHANGE,
            Perm.EPISODE_TRANSITION,
            Perm.INTAKE_MANAGE,
            Perm.ASSESSMENT_WRITE,
            Perm.INSTRUMENT_GIVE,
            # Intake books first appointments; it does not run groups.
            Perm.SCHEDULE_VIEW,
            Perm.SCHEDULE_MANAGE,
            # Issue 10: intake records the TEDS admission items and calls alumni.
            Perm.TEDS_RECORD,
            Perm.ALUMNI_FOLLOW_UP,
            # Issue 11: intake verifies benefits and records the first authorisation.
            Perm.COVERAGE_VIEW,
            Perm.COVERAGE_RECORD,
        }
        | _PRIVACY_WORK
    ),
    Role.COUNSELLOR: frozenset(
        _CLINICAL_READ
        | {
            Perm.PARTICIPANT_CREATE,
            Perm.PARTICIPANT_CHANGE,
            Perm.EPISODE_CHANGE,
            Perm.EPISODE_TRANSITION,
            Perm.INTAKE_MANAGE,
        }
        | _CLINICAL_WORK
        | _GROUP_WORK
        | _PRIVACY_WORK
        | _AFTER_DISCHARGE
        | {Perm.TEDS_RECORD}
        | _UTILISATION_REVIEW
    ),
    Role.SUPERVISOR: frozenset(
        _CLINICAL_READ
        | {Perm.PARTICIPANT_CHANGE, Perm.EPISODE_CHANGE, Perm.EPISODE_TRANSITION}
        | _CLINICAL_WORK
        | _GROUP_WORK
        | {Perm.NOTE_COSIGN, Perm.PLAN_APPROVE, Perm.SCREENING_VERIFY}
        | _PRIVACY_WORK
        | {Perm.AMENDMENT_DECIDE}
        | _AFTER_DISCHARGE
        | {Perm.OUTCOMES_VIEW}
        | _UTILISATION_REVIEW
    ),
    Role.LAB: frozenset(
        {
            Perm.PARTICIPANT_VIEW,
            Perm.SCREENING_VIEW,
            Perm.SCREENING_COLLECT,
            Perm.SCREENING_ORDER,
            Perm.SCREENING_VERIFY,
        }
    ),
    Role.BILLING: frozenset(
        {Perm.PARTICIPANT_VIEW, Perm.ATTENDANCE_VIEW, Perm.BILLING_VIEW, Perm.BILLING_MANAGE}
        | _UTILISATION_REVIEW
        | {Perm.COVERAGE_RECORD}
    ),
    # Compliance keeps the consent registry, releases records, reviews emergency
    # accesses and answers amendment requests; it reads no clinical note.
    Role.COMPLIANCE: frozenset(
        {
            Perm.PARTICIPANT_VIEW,
            Perm.AUDIT_VIEW,
            Perm.CONSENT_VIEW,
            Perm.SCREENING_VERIFY,
            Perm.CONSENT_RECORD,
            Perm.RECORDS_DISCLOSE,
            Perm.EMERGENCY_REVIEW,
            Perm.AMENDMENT_RECORD,
            Perm.AMENDMENT_DECIDE,
            # Issue 10: state reporting (TEDS) is compliance's work as well as the director's.
            Perm.TEDS_EXPORT,
        }
    ),
    Role.ADMIN: frozenset(
        {
            Perm.USERS_MANAGE,
            Perm.PROGRAM_CONFIGURE,
            Perm.JOBS_VIEW,
            Perm.AUDIT_VIEW,
            Perm.SECURITY_CONFIGURE,
            Perm.MESSAGES_VIEW,
            # Issue 12: API clients and their credentials, for any program.
            Perm.API_CLIENTS_MANAGE,
        }
    ),
}

# Roles whose members work with participants clinically; a program setting can narrow
# counsellors to their own care teams.
CLINICAL_ROLES = frozenset({Role.DIRECTOR, Role.INTAKE, Role.COUNSELLOR, Role.SUPERVISOR})


def permissions_for(roles: set[str] | frozenset[str] | list[str]) -> frozenset[str]:
    perms: set[str] = set()
    for role in roles:
        perms |= ROLE_PERMISSIONS.get(role, frozenset())
    return frozenset(perms)


def roles_with(perm: str) -> list[str]:
    return [role for role, perms in ROLE_PERMISSIONS.items() if perm in perms]
