"""Encounter and Appointment: the participant at a scheduled session (DOMAIN.md §7).

- **Encounter**: one per participant per session actually attended (present, late, left
  early, by telehealth), from the attendance mark. Absences are not encounters.
- **Appointment**: the participant's place in a session. Two sources: attendance marks of
  any status (id `att-<attendance uuid>`; the Encounter of an attended mark points to
  it), and bookings (individual and family appointments, make-ups, extras) not yet marked
  (id `bk-<booking uuid>`). A group's expected roster is derived from track enrolment
  (scheduling.enrolment), not stored per session, so a group session a participant is
  only enrolled in shows up once attendance is taken.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q

from openiop.attendance.choices import ATTENDED, AttendanceStatus
from openiop.attendance.models import Attendance
from openiop.programs.choices import Modality, SessionCategory
from openiop.scheduling.choices import BookingReason, BookingStatus, SessionKind, SessionStatus
from openiop.scheduling.models import Booking

from ..api import instant
from ..registry import Provider, Source, register
from .episodes import episode_reference
from .patient import patient_reference

ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PARTICIPATION_TYPE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
CANCEL_REASON = "http://terminology.hl7.org/CodeSystem/appointment-cancellation-reason"
APPOINTMENT_REASON = "http://terminology.hl7.org/CodeSystem/v2-0276"
UCUM = "http://unitsofmeasure.org"
# Local code systems (no standard codes for these): the kind of session (group,
# individual, family, family workshop) and the session type's category.
SESSION_KIND_SYSTEM = "urn:openiop:session-kind"
SESSION_CATEGORY_SYSTEM = "urn:openiop:session-category"

KIND_LABELS: dict[str, str] = dict(SessionKind.choices)
CATEGORY_LABELS: dict[str, str] = dict(SessionCategory.choices)
STATUS_LABELS: dict[str, str] = dict(AttendanceStatus.choices)

# Rows whose session is gone (voided) or whose participant was entered in error are
# never served; a voided mark or booking is left out by `voided=False` (410 on a read).
LIVE = {"voided": False, "session__voided": False, "participant__voided": False}
SESSION_RELATED = (
    "session__program",
    "session__session_type",
    "session__facilitator",
    "session__room",
)


class SessionSource(Source):
    """A source whose rows belong to a session: the session's program must be the
    client's too (as well as the participant's)."""

    date_field = "session__starts_at"
    date_kind = "datetime"
    category = "attendance"

    def program_q(self, program_ids: list[int]) -> Q:
        return super().program_q(program_ids) & Q(session__program_id__in=program_ids)


def session_kind(session: Any) -> list[dict[str, Any]]:
    label = KIND_LABELS.get(session.kind, session.kind)
    return [
        {
            "coding": [{"system": SESSION_KIND_SYSTEM, "code": session.kind, "display": label}],
            "text": label,
        }
    ]


def service_type(session: Any) -> dict[str, Any]:
    """The session type: its category (local code) and its name as text."""
    category = session.session_type.category
    return {
        "coding": [
            {
                "system": SESSION_CATEGORY_SYSTEM,
                "code": category,
                "display": CATEGORY_LABELS.get(category, category),
            }
        ],
        "text": session.session_type.name,
    }


def virtual(attendance: Any) -> bool:
    """Attended remotely: marked as telehealth, or the session is held by telehealth
    (Encounter.class VR rather than AMB, DOMAIN.md §7)."""
    return bool(
        attendance.status == AttendanceStatus.TELEHEALTH
        or attendance.session.modality == Modality.TELEHEALTH
    )


def appointment_id(attendance: Any) -> str:
    return f"{AttendanceAppointmentSource.id_prefix}{attendance.uuid}"


# --- Encounter --------------------------------------------------------------------------


class EncounterSource(SessionSource):
    model = Attendance
    participant_path = "participant"
    # Kept simple: a marked attendance is a finished encounter (marks are taken during
    # or after the session).
    status_filters = {"finished": Q()}

    def queryset(self):
        return Attendance.objects.filter(**LIVE, status__in=sorted(ATTENDED)).select_related(
            "participant", "episode", *SESSION_RELATED
        )

    def to_resource(self, obj: Attendance, ctx: Any) -> dict[str, Any]:
        session = obj.session
        remote = virtual(obj)
        resource: dict[str, Any] = {
            "status": "finished",
            "class": {
                "system": ACT_CODE,
                "code": "VR" if remote else "AMB",
                "display": "virtual" if remote else "ambulatory",
            },
            "type": session_kind(session),
            "serviceType": service_type(session),
            "subject": patient_reference(obj.participant),
            "episodeOfCare": [episode_reference(obj.episode)],
            "appointment": [{"reference": f"Appointment/{appointment_id(obj)}"}],
            "period": {"start": instant(session.starts_at), "end": instant(session.ends_at)},
            "length": {
                "value": obj.minutes_attended,
                "unit": "min",
                "system": UCUM,
                "code": "min",
            },
            "serviceProvider": {"display": session.program.name},
        }
        if session.facilitator is not None:
            resource["participant"] = [
                {
                    "type": [
                        {
                            "coding": [
                                {
                                    "system": PARTICIPATION_TYPE,
                                    "code": "PPRF",
                                    "display": "primary performer",
                                }
                            ]
                        }
                    ],
                    "individual": {"display": session.facilitator.display_name},
                }
            ]
        if session.room is not None and not remote:
            resource["location"] = [{"location": {"display": session.room.name}}]
        return resource


# --- Appointment ------------------------------------------------------------------------

SESSION_CANCELLED = Q(session__status=SessionStatus.CANCELLED)


def _appointment(
    session: Any,
    participant: Any,
    *,
    status: str,
    patient_status: str,
    walk_in: bool,
    reason: dict[str, Any] | None,
) -> dict[str, Any]:
    code, display = (
        ("WALKIN", "A previously unscheduled walk-in visit")
        if walk_in
        else ("ROUTINE", "Routine appointment - default if not valued")
    )
    resource: dict[str, Any] = {"status": status}
    if reason is not None:
        resource["cancelationReason"] = reason
    resource.update(
        {
            "serviceCategory": session_kind(session),
            "serviceType": [service_type(session)],
            "appointmentType": {
                "coding": [{"system": APPOINTMENT_REASON, "code": code, "display": display}]
            },
            "description": session.title,
            "start": instant(session.starts_at),
            "end": instant(session.ends_at),
            "minutesDuration": session.minutes,
        }
    )
    participants: list[dict[str, Any]] = [
        {"actor": patient_reference(participant), "required": "required", "status": patient_status}
    ]
    if session.facilitator is not None:
        participants.append(
            {
                "type": [
                    {
                        "coding": [
                            {
                                "system": PARTICIPATION_TYPE,
                                "code": "PPRF",
                                "display": "primary performer",
                            }
                        ]
                    }
                ],
                "actor": {"display": session.facilitator.display_name},
                "required": "required",
                "status": "accepted",
            }
        )
    resource["participant"] = participants
    return resource


def _session_cancelled(session: Any) -> dict[str, Any]:
    return {
        "coding": [{"system": CANCEL_REASON, "code": "prov", "display": "Provider"}],
        "text": session.cancel_reason or "The session was cancelled.",
    }


class AttendanceAppointmentSource(SessionSource):
    """The participant's place in a session whose attendance was taken: fulfilled,
    noshow or cancelled (DOMAIN.md §7)."""

    model = Attendance
    participant_path = "participant"
    id_prefix = "att-"
    status_filters = {
        "fulfilled": Q(status__in=sorted(ATTENDED)) & ~SESSION_CANCELLED,
        "noshow": Q(status=AttendanceStatus.ABSENT_UNEXCUSED) & ~SESSION_CANCELLED,
        "cancelled": Q(status=AttendanceStatus.ABSENT_EXCUSED) | SESSION_CANCELLED,
    }

    def queryset(self):
        return Attendance.objects.filter(**LIVE).select_related("participant", *SESSION_RELATED)

    def to_resource(self, obj: Attendance, ctx: Any) -> dict[str, Any]:
        session = obj.session
        reason = None
        patient_status = "accepted"
        if session.status == SessionStatus.CANCELLED:
            status = "cancelled"
            reason = _session_cancelled(session)
        elif obj.status in ATTENDED:
            status = "fulfilled"
        elif obj.status == AttendanceStatus.ABSENT_EXCUSED:
            # An excused absence: the participant let the program know (cancelled by the
            # patient); the mark's free-text note is not sent.
            status, patient_status = "cancelled", "declined"
            reason = {
                "coding": [{"system": CANCEL_REASON, "code": "pat", "display": "Patient"}],
                "text": STATUS_LABELS[AttendanceStatus.ABSENT_EXCUSED],
            }
        else:
            status = "noshow"
        return _appointment(
            session,
            obj.participant,
            status=status,
            patient_status=patient_status,
            walk_in=obj.walk_in,
            reason=reason,
        )


class BookingAppointmentSource(SessionSource):
    """A booking (individual or family appointment, make-up, extra) with no attendance
    mark yet for that participant at that session."""

    model = Booking
    participant_path = "episode__participant"
    id_prefix = "bk-"
    status_filters = {
        "booked": Q(status=BookingStatus.BOOKED) & ~SESSION_CANCELLED,
        "cancelled": Q(status=BookingStatus.CANCELLED) | SESSION_CANCELLED,
    }

    def queryset(self):
        marked = Attendance.objects.filter(
            session_id=OuterRef("session_id"), episode_id=OuterRef("episode_id"), voided=False
        )
        return (
            Booking.objects.filter(
                voided=False, session__voided=False, episode__participant__voided=False
            )
            .filter(~Exists(marked))
            .select_related("episode__participant", *SESSION_RELATED)
        )

    def to_resource(self, obj: Booking, ctx: Any) -> dict[str, Any]:
        session = obj.session
        reason = None
        status, patient_status = "booked", "accepted"
        if session.status == SessionStatus.CANCELLED:
            status, reason = "cancelled", _session_cancelled(session)
        elif obj.status == BookingStatus.CANCELLED:
            # Who cancelled is in the audit trail, not on the booking: text only.
            status, patient_status = "cancelled", "declined"
            reason = {"text": "The booking was cancelled."}
        return _appointment(
            session,
            obj.episode.participant,
            status=status,
            patient_status=patient_status,
            walk_in=obj.reason == BookingReason.WALK_IN,
            reason=reason,
        )


register(
    Provider(
        "Encounter",
        [EncounterSource()],
        documentation=(
            "One per participant per session attended (present, late, left early, "
            "telehealth); absences are not encounters. length = minutes attended."
        ),
        params_doc={
            "date": "When the session starts (prefixes eq ne lt gt le ge sa eb)",
            "status": "finished (every attended session)",
        },
    )
)

register(
    Provider(
        "Appointment",
        [AttendanceAppointmentSource(), BookingAppointmentSource()],
        documentation=(
            "The participant's place in a session: attendance marks (id att-…: fulfilled, "
            "noshow, cancelled when excused) and bookings not yet marked (id bk-…). A group "
            "session the participant is only enrolled in appears once attendance is taken."
        ),
        params_doc={
            "date": "When the session starts (prefixes eq ne lt gt le ge sa eb)",
            "status": "fulfilled, noshow, booked, cancelled",
        },
    )
)
