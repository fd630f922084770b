"""Query counts of the family pages, pinned at two data sizes: they must not grow with the
number of family members, invitations, marks or articles."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from openiop.family import services
from openiop.testing import add_education, make_family_session

from .conftest import consent_for, new_contact


def grow(world, n: int) -> None:
    """`n` more consented family members of world.active, each invited to a new workshop
    today (with Jordan; both marked present) and to the family appointment; `n` more
    published articles."""
    today = world.program.today()
    jordan = world.family_contact
    for _ in range(n):
        k = world.records["grown"] = world.records.get("grown", 0) + 1
        contact = new_contact(world, f"Relative {k}")
        consent_for(world, contact)
        workshop = make_family_session(world, day=today, kind="family_workshop", start=dt.time(k))
        services.invite_to_session(workshop, [contact, jordan], actor=world.counsellor)
        services.record_family_attendance(
            workshop,
            {contact.pk: services.Entry("present"), jordan.pk: services.Entry("present")},
            actor=world.counsellor,
        )
        services.invite_to_session(world.family_session, [contact], actor=world.counsellor)
        article = services.save_article(
            None,
            program=world.program,
            values={
                "section": "education" if k % 2 else "support",
                "audience": "family",
                "language": "en",
                "title": f"Article {k}",
                "summary": "Summary",
                "body": "Body",
                "position": k,
            },
            actor=world.director,
        )
        services.set_article_state(article, "publish", actor=world.director)


def cover_attendance(world) -> None:
    from openiop.privacy import services as privacy
    from openiop.privacy.choices import InfoCategory

    privacy.revoke_consent(
        world.family_consent, actor=world.counsellor, revoked_on=world.program.today(), note="New"
    )
    consent_for(
        world,
        world.family_contact,
        information=(InfoCategory.ENROLMENT, InfoCategory.ATTENDANCE),
        signed_on=world.program.today(),
    )


PAGES = {
    # url name → (persona, kwargs)
    "family_portal:home": ("portal_family", lambda w: {}),
    # Jordan's consent renewed to cover attendance: the participant's hours are shown.
    "family_portal:home[attendance]": ("portal_family", lambda w: {}),
    "family_portal:education": ("portal_family", lambda w: {}),
    "family_portal:support": ("portal_family", lambda w: {}),
    "family_portal:article": ("portal_family", lambda w: {"pk": w.article.pk}),
    "family:session": ("counsellor", lambda w: {"pk": w.family_session.pk}),
    "participant_family:overview": ("counsellor", lambda w: {"pk": w.active.pk}),
    "education:list": ("director", lambda w: {}),
}


@pytest.mark.parametrize("name", sorted(PAGES))
def test_page_queries_do_not_grow_with_the_data(client, fam, name, django_assert_num_queries):
    add_education(fam)
    if name.endswith("[attendance]"):
        cover_attendance(fam)
    persona, kwargs = PAGES[name]
    user = fam.records[persona] if persona == "portal_family" else fam.users[persona]
    for size in (1, 3):
        grow(fam, size)
        client.force_login(user)
        url = reverse(name.split("[")[0], kwargs=kwargs(fam))
        client.get(url)  # the day's disclosure is written once: count the pages after it
        with django_assert_num_queries(EXPECTED[name]):
            assert client.get(url).status_code == 200


# Family portal pages: the session; the user; the portal account with its participant,
# program and contact; the participant's consents (the gate); the day's disclosure already
# made (savepoint, account lock, lookup, release); the page's own queries; the view event
# (chain head, insert, head update).
_PORTAL = 1 + 1 + 1 + 1 + 4 + 3
EXPECTED: dict[str, int] = {
    # + the upcoming invitations (with session, room, site) and the attended sessions.
    "family_portal:home": _PORTAL + 2,
    # + the participant's episode and its hours (attendance.hours.engagement_for: four
    # queries whatever the number of sessions).
    "family_portal:home[attendance]": _PORTAL + 2 + 5,
    # + the articles (one query: the account's language has some).
    "family_portal:education": _PORTAL + 1,
    "family_portal:support": _PORTAL + 1,
    "family_portal:article": _PORTAL + 1,
    # Staff: session, user, roles, programs; the session; invitations; candidates;
    # consents and discharges (the bulk decisions); marks; the offered contacts (the form);
    # the view event (3); the banner's safety-alert count.
    "family:session": 15,
    # Session, user, roles, programs; the participant and its view event (3); program;
    # contacts; consents; discharges; accounts; portal invitations; family invitations;
    # marks; the banner.
    "participant_family:overview": 17,
    # Session, user, roles, programs; programs of the user; articles; retired count; the
    # view event (3); the banner.
    "education:list": 11,
}
