"""Calendar feeds (issue 5, point 9): a secret link per staff member or participant,
readable without signing in, with times and places but no clinical detail; revoking or
replacing a link stops it at once, and only the link's hash is kept."""

from __future__ import annotations

import datetime as dt
import hashlib

import icalendar
import pytest
from django.urls import reverse
from django.utils import timezone

from openiop.core.models import AuditEvent
from openiop.participants.models import Participant
from openiop.programs.models import Program, SessionType, Topic
from openiop.scheduling import services
from openiop.scheduling.ical import FUTURE_DAYS, PAST_DAYS
from openiop.scheduling.models import FeedToken, Session

pytestmark = pytest.mark.django_db

FORBIDDEN_WORDS = ("substance", "alcohol", "relapse", "craving", "addiction")


def feed_url(token: str) -> str:
    return reverse("ical_feed", args=[token])


def fetch(client, token: str):
    response = client.get(feed_url(token))
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/calendar")
    return response


def events(response) -> list[icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(response.content)
    return [c for c in calendar.walk() if c.name == "VEVENT"]


def starts(found: list[icalendar.Event]) -> set[dt.datetime]:
    out = set()
    for event in found:
        start = event.decoded("dtstart")
        assert isinstance(start, dt.datetime)
        assert start.tzinfo is not None and start.utcoffset() is not None
        out.add(start.astimezone(dt.UTC))
    return out


def in_window(qs):
    now = timezone.now()
    return qs.filter(
        starts_at__gte=now - dt.timedelta(days=PAST_DAYS),
        starts_at__lte=now + dt.timedelta(days=FUTURE_DAYS),
    )


# ---------------------------------------------------------------- what a feed holds


def test_staff_feed_lists_the_facilitators_sessions(world, client):
    response = fetch(client, world.staff_feed_token)
    found = events(response)
    expected = in_window(Session.objects.filter(facilitator=world.counsellor, voided=False))
    assert len(found) == expected.count() >= 8
    assert starts(found) == {s.starts_at for s in expected}
    assert world.appointment.starts_at in starts(found)
    # A session someone else facilitates is not in the counsellor's feed.
    assert {str(e["summary"]) for e in found} <= {"Group session", "Appointment"}
    uids = {str(e["uid"]) for e in found}
    assert f"session-{world.future_session.uuid}@openiop" in uids
    future = next(
        e for e in found if str(e["uid"]).startswith(f"session-{world.future_session.uuid}")
    )
    assert future.decoded("dtend").astimezone(dt.UTC) == world.future_session.ends_at
    assert str(future["location"]) == "Room Group Room"  # the site has no address


def test_feed_location_is_the_sites_address_not_its_name(world, client):
    site = world.program.site
    site.name = "Harbor Light Recovery Center"
    site.address = "120 Water St, Portland, ME 04101"
    site.save(update_fields=["name", "address"])
    found = events(fetch(client, world.staff_feed_token))
    future = next(
        e for e in found if str(e["uid"]).startswith(f"session-{world.future_session.uuid}")
    )
    assert str(future["location"]) == "120 Water St, Portland, ME 04101, room Group Room"
    body = fetch(client, world.staff_feed_token).content.decode()
    assert "Recovery" not in body


def test_staff_feed_excludes_other_facilitators(world, client):
    session = services.create_session(
        services.SessionInput(
            program=world.program,
            session_type=world.program.session_types.first(),
            kind="group",
            title="Director's group",
            day=world.program.today() + dt.timedelta(days=3),
            start=dt.time(18),
            end=dt.time(19),
            facilitator=world.director,
        ),
        actor=world.director,
    )
    found = events(fetch(client, world.staff_feed_token))
    assert session.starts_at not in starts(found)


def test_participant_feed_lists_track_sessions_and_appointments(world, client):
    response = fetch(client, world.participant_feed_token)
    found = events(response)
    track = world.program.tracks.get(name="Morning")
    expected = {s.starts_at for s in in_window(Session.objects.filter(track=track))}
    expected.add(world.appointment.starts_at)
    assert starts(found) == expected
    summaries = [str(e["summary"]) for e in found]
    assert summaries.count("Appointment") == 1
    assert summaries.count("Group session") == len(found) - 1


def test_cancelled_session_is_marked_cancelled_in_the_feed(world, client):
    services.cancel_session(world.future_session, actor=world.director, reason="Snow")
    found = events(fetch(client, world.participant_feed_token))
    event = next(
        e for e in found if str(e["uid"]).startswith(f"session-{world.future_session.uuid}")
    )
    assert str(event["status"]) == "CANCELLED"


@pytest.mark.parametrize("which", ["staff_feed_token", "participant_feed_token"])
def test_feed_carries_no_participant_names(world, client, which):
    Participant.objects.filter(pk=world.active.pk).update(preferred_name="Sunny")
    body = fetch(client, getattr(world, which)).content.decode()
    for participant in Participant.objects.all():
        for name in (
            participant.legal_first_name,
            participant.legal_last_name,
            participant.preferred_name,
            participant.record_number,
        ):
            if name:
                assert name not in body, name


@pytest.mark.parametrize("which", ["staff_feed_token", "participant_feed_token"])
def test_feed_carries_no_topics_session_types_or_clinical_words(world, client, which):
    body = fetch(client, getattr(world, which)).content.decode().lower()
    assert Topic.objects.filter(program=world.program).count() >= 3
    for topic in Topic.objects.all():
        assert topic.title.lower() not in body, topic.title
    for session_type in SessionType.objects.all():
        assert session_type.name.lower() not in body, session_type.name
    for word in FORBIDDEN_WORDS:
        assert word not in body, word
    assert world.counsellor.display_name.lower() not in body


@pytest.mark.parametrize("which", ["staff_feed_token", "participant_feed_token"])
def test_feed_carries_no_program_name(world, client, which):
    body = fetch(client, getattr(world, which)).content.decode().lower()
    for program in Program.objects.all():
        assert program.name.lower() not in body, program.name


# ---------------------------------------------------------------- revoking and replacing


def test_revoked_feed_answers_not_found(world, client):
    fetch(client, world.staff_feed_token)
    feed = FeedToken.objects.get(user=world.counsellor, revoked_at=None)
    services.revoke_feed(feed, actor=world.counsellor)
    assert client.get(feed_url(world.staff_feed_token)).status_code == 404
    feed.refresh_from_db()
    assert feed.revoked_by == world.counsellor and feed.revoked_at is not None
    with pytest.raises(services.ScheduleError, match="already revoked"):
        services.revoke_feed(feed, actor=world.counsellor)
    # The participant's feed is untouched.
    fetch(client, world.participant_feed_token)


def test_staff_revokes_their_own_link_from_the_page(world, login):
    client = login(world.counsellor)
    response = client.post(reverse("scheduling:my_feed"), {"action": "revoke"})
    assert response.status_code == 302
    client.logout()
    assert client.get(feed_url(world.staff_feed_token)).status_code == 404
    assert not FeedToken.objects.filter(user=world.counsellor, revoked_at=None).exists()


def test_participant_link_revoked_from_the_page(world, login):
    client = login(world.counsellor)
    url = reverse("schedule:participant_feed", args=[world.active.pk])
    response = client.post(url, {"action": "revoke"})
    assert response.status_code == 302
    client.logout()
    assert client.get(feed_url(world.participant_feed_token)).status_code == 404


def test_issuing_a_new_link_revokes_the_old_one(world, client):
    new = services.issue_feed(actor=world.counsellor, user=world.counsellor)
    assert client.get(feed_url(world.staff_feed_token)).status_code == 404
    fetch(client, new)
    assert FeedToken.objects.filter(user=world.counsellor, revoked_at=None).count() == 1
    assert FeedToken.objects.filter(user=world.counsellor).count() == 2


def test_new_link_from_the_page_replaces_the_old(world, login):
    client = login(world.counsellor)
    url = reverse("schedule:participant_feed", args=[world.active.pk])
    response = client.post(url, {"action": "create"})
    assert response.status_code == 200
    new_url = response.context["new_url"]
    assert new_url.endswith(".ics") and new_url.encode() in response.content
    token = new_url.rsplit("/", 1)[1].removesuffix(".ics")
    client.logout()
    assert client.get(feed_url(world.participant_feed_token)).status_code == 404
    fetch(client, token)


@pytest.mark.parametrize(
    "token",
    ["unknown-token", "x" * 200, "a" * 101, "%20", "Robert'); DROP TABLE--"],
)
def test_unknown_or_overlong_tokens_answer_not_found(world, client, token):
    assert client.get(feed_url(token)).status_code == 404


def test_feed_needs_no_sign_in_and_is_audited(world, client):
    response = fetch(client, world.participant_feed_token)
    assert response["Cache-Control"] == "private, max-age=300"
    feed = FeedToken.objects.get(participant=world.active, revoked_at=None)
    assert feed.last_used_at is not None
    assert AuditEvent.objects.filter(
        object_type="scheduling.ical_feed", object_id=str(feed.pk), action="view"
    ).exists()


# ---------------------------------------------------------------- only the hash is kept


def test_only_the_tokens_hash_is_stored(world):
    for token, owner in (
        (world.staff_feed_token, {"user": world.counsellor}),
        (world.participant_feed_token, {"participant": world.active}),
    ):
        feed = FeedToken.objects.get(revoked_at=None, **owner)
        assert feed.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert feed.hint == token[:6]
        stored = [str(v) for v in FeedToken.objects.filter(pk=feed.pk).values().get().values()]
        assert all(token not in value for value in stored)
        assert not FeedToken.objects.filter(token_hash=token).exists()


def test_the_raw_token_is_nowhere_in_the_database_after_use(world, client):
    """Fetching the feed must not write the secret anywhere (e.g. the audit log's path)."""
    token = world.staff_feed_token
    fetch(client, token)
    for event in AuditEvent.objects.all():
        text = " ".join(
            [event.path, event.object_repr, event.object_id, event.reason, str(event.changes)]
        )
        assert token not in text, (event.object_type, event.path)
