"""Education material for families: written by staff with `education.edit`, shown in the
family portal once published, in the family member's language; unpublished or retired,
never deleted; its text is shown as text."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from openiop.core.models import AuditEvent
from openiop.family import services
from openiop.family.models import EducationArticle
from openiop.testing import add_education


def as_family(fam) -> Client:
    """The family member's own phone: a client of its own (staff flash messages stay on
    the staff client)."""
    client = Client()
    client.force_login(fam.portal_family)
    return client


def article_values(**changes):
    return {
        "title": "Setting boundaries with love",
        "summary": "Saying no without giving up on someone.",
        "body": "First paragraph.\n\nSecond paragraph.",
        "section": "support",
        "audience": "family",
        "language": "en",
        "position": "3",
        **changes,
    }


def test_a_new_article_is_a_draft_families_do_not_see(login, fam):
    client = login(fam.director)
    response = client.post(
        reverse("education:new"), {**article_values(), "program": fam.program.pk}
    )
    assert response.status_code == 302
    article = EducationArticle.objects.get(title="Setting boundaries with love")
    assert not article.published and article.created_by == fam.director
    family = as_family(fam)
    assert b"Setting boundaries" not in family.get(reverse("family_portal:support")).content
    assert family.get(reverse("family_portal:article", args=[article.pk])).status_code == 404


def test_publishing_shows_it_and_unpublishing_takes_it_away(login, fam):
    article = services.save_article(
        None,
        program=fam.program,
        values={**article_values(), "position": 3},
        actor=fam.director,
    )
    staff = login(fam.director)
    state = reverse("education:state", args=[article.pk])
    assert staff.post(state, {"action": "publish"}).status_code == 302
    article.refresh_from_db()
    assert article.published and article.published_at is not None
    page = as_family(fam).get(reverse("family_portal:support"))
    assert b"Setting boundaries with love" in page.content
    staff = login(fam.director)
    assert staff.post(state, {"action": "unpublish"}).status_code == 302
    page = as_family(fam).get(reverse("family_portal:support"))
    assert b"Setting boundaries with love" not in page.content


def test_an_article_is_retired_never_deleted(login, fam):
    add_education(fam)
    article = fam.article
    client = login(fam.director)
    response = client.post(reverse("education:state", args=[article.pk]), {"action": "retire"})
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.retired and not article.published
    client.get(response["Location"])  # (the page after it says it was retired)
    assert b"Addiction is a health condition" not in client.get(reverse("education:list")).content
    listed = client.get(reverse("education:list"), {"show": "retired"})
    assert b"Addiction is a health condition" in listed.content
    with pytest.raises(TypeError):
        article.delete()
    # A retired article cannot be published before it is restored.
    again = client.post(reverse("education:state", args=[article.pk]), {"action": "publish"})
    assert again.status_code == 409


def test_a_stale_edit_is_refused_and_a_change_is_audited(login, fam):
    add_education(fam)
    article = fam.article
    client = login(fam.director)
    url = reverse("education:edit", args=[article.pk])
    opened = article.version
    response = client.post(url, {**article_values(title="A new title"), "version": opened})
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.title == "A new title" and article.version == opened + 1
    event = AuditEvent.objects.filter(
        object_type="family.educationarticle", object_id=str(article.pk), action="change"
    ).latest("seq")
    assert event.changes["title"] == ["Addiction is a health condition", "A new title"]
    stale = client.post(url, {**article_values(title="Overwrite"), "version": opened})
    assert stale.status_code == 409
    article.refresh_from_db()
    assert article.title == "A new title"


def test_article_text_is_shown_as_text(login, fam):
    article = services.save_article(
        None,
        program=fam.program,
        values={
            **article_values(),
            "body": "<script>alert(1)</script>\n\nSecond <b>para</b>.",
            "position": 1,
        },
        actor=fam.director,
    )
    services.set_article_state(article, "publish", actor=fam.director)
    page = as_family(fam).get(reverse("family_portal:article", args=[article.pk]))
    assert page.status_code == 200
    assert b"<script>alert(1)</script>" not in page.content
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in page.content
    assert page.content.count(b"<p>") >= 2


def test_a_family_member_reads_in_their_language(login, fam):
    from openiop.portal.models import PortalAccount

    add_education(fam)
    client = as_family(fam)
    english = client.get(reverse("family_portal:education"))
    assert b"Addiction is a health condition" in english.content
    assert "Qué es la adicción".encode() not in english.content
    PortalAccount.objects.filter(user=fam.portal_family).update(language="es")
    spanish = client.get(reverse("family_portal:education"))
    assert spanish["Content-Language"] == "es"
    assert "Qué es la adicción".encode() in spanish.content
    assert b"Addiction is a health condition" not in spanish.content
    # No Spanish "how to support" article yet: the English ones, marked as English.
    support = client.get(reverse("family_portal:support"))
    assert support.context["fallback"] is True
    assert b'lang="en"' in support.content
    assert b"Listening without judging" in support.content


def test_articles_for_participants_and_other_programs_are_not_shown(login, fam):
    mine = services.save_article(
        None,
        program=fam.program,
        values={**article_values(audience="participant"), "position": 1},
        actor=fam.director,
    )
    services.set_article_state(mine, "publish", actor=fam.director)
    theirs = EducationArticle.objects.create(
        program=fam.other_program, title="Theirs", body="Text", published=True
    )
    client = as_family(fam)
    for article in (mine, theirs):
        assert client.get(reverse("family_portal:article", args=[article.pk])).status_code == 404


def test_only_education_editors_write_articles(login, fam):
    add_education(fam)
    client = login(fam.counsellor)
    assert client.get(reverse("education:list")).status_code == 403
    response = client.post(
        reverse("education:edit", args=[fam.article.pk]),
        {**article_values(title="Counsellor's change"), "version": fam.article.version},
    )
    assert response.status_code == 403
    # A director of another program does not see this program's articles.
    outsider = login(fam.outsider)
    assert outsider.get(reverse("education:edit", args=[fam.article.pk])).status_code == 404
