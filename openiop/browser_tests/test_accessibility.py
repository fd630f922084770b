"""Accessibility (issue 9, point 7 and acceptance 5): axe-core, run in Chromium over the
main staff pages and every portal page, finds no violation of impact "serious" or
"critical".

One world for the whole module: it is built once (with privacy, screening, amendment and
portal records so the pages have content), served by a live server of this module's own,
and flushed at the end, as a transactional test would be. Each persona signs in once; its
cookies are reused for each page (`storage_state`), so each page is its own test and the
module runs in two to three minutes. The portal part reads `PORTAL_RULES`
(openiop/tests/test_portal_access.py), so a portal page added there is checked here too,
at a phone's 360 x 740.

A failure names, for each violation, the rule, what it asks, and the first elements it
found (CSS selectors a developer can paste into the browser's console).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.urls import reverse

pytestmark = pytest.mark.browser

BLOCKING = ("serious", "critical")
STAFF_VIEWPORT = {"width": 1280, "height": 900}
PHONE_VIEWPORT = {"width": 360, "height": 740}


# --- the world, the server and the signed-in personas ----------------------------------


@dataclass
class AxeWorld:
    world: Any
    url: str
    # persona (staff role name, or "portal:participant" / "portal:family") → cookies.
    states: dict[str, Any] = field(default_factory=dict)


@pytest.fixture(scope="module")
def transactional_db(django_db_setup, django_db_blocker) -> Iterator[None]:
    """This module's database: committed, as for any transactional test, but flushed once
    at the end of the module instead of after each test.

    It overrides pytest-django's function-scoped fixture of the same name for this module
    only, so pytest-django still sets the test database up for it; pytest-django's
    `live_server` is not used here because it would bring back the flush after each test.
    """
    from django.core.management import call_command

    with django_db_blocker.unblock():
        try:
            yield
        finally:
            call_command("flush", verbosity=0, interactive=False)


@pytest.fixture(scope="module")
def axe_world(transactional_db) -> Iterator[AxeWorld]:
    """The world, with privacy, screening, amendment and portal records, and a live server
    of this module's own."""
    from django.test.utils import override_settings
    from pytest_django.live_server_helper import LiveServer

    from openiop import testing

    # As conftest's `_fast_hasher_and_hosts`, which is function-scoped: the users are
    # made before any test starts.
    with override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        ALLOWED_HOSTS=["testserver", "127.0.0.1", "localhost"],
    ):
        world = testing.build_world()
        testing.add_privacy(world)
        testing.add_screening_orders(world)
        testing.add_screening_review(world)
        testing.add_amendment(world)
        testing.add_portal(world)
        cancel_a_session(world)
        server = LiveServer("localhost")
        try:
            yield AxeWorld(world=world, url=server.url)
        finally:
            server.stop()


def cancel_a_session(world) -> None:
    """`world.cancelled_session`: a session after today, cancelled (the calendar shows it
    struck through, in muted colours that must still be readable)."""
    from openiop.scheduling import services as schedule
    from openiop.scheduling.models import Session

    later = (
        Session.objects.filter(program=world.program, date__gt=world.program.today())
        .exclude(pk=world.future_session.pk)
        .order_by("date")
        .first()
    )
    world.records["cancelled_session"] = schedule.cancel_session(
        later or world.future_session, actor=world.director, reason="Staff training day"
    )


def sign_in_staff(page, base: str, user) -> None:
    """The staff sign-in form, with the two-factor step or forced enrolment when the
    user's role asks for it (as `conftest.sign_in` does)."""
    from openiop.testing import PASSWORD, totp_code_for

    page.goto(base + "/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(f"^{re.escape(base)}/(accounts/login/(code|set-up)/)?$"))
    if page.url.endswith("/accounts/login/set-up/"):
        page.get_by_label("Code").fill(totp_code_for(user))
        page.get_by_role("button", name="Turn on two-factor sign-in").click()
        page.get_by_role("link", name="continue").click()
    elif page.url.endswith("/accounts/login/code/"):
        page.get_by_label("Code").fill(totp_code_for(user))
        page.get_by_role("button", name="Verify").click()
    page.wait_for_url(base + "/")


def sign_in_portal(page, base: str, user) -> None:
    from openiop.testing import PASSWORD

    page.goto(base + reverse("portal:login"))
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/sign-in/" not in url)


@pytest.fixture
def open_as(browser, axe_world: AxeWorld) -> Iterator[Callable[..., Any]]:
    """open_as(persona, viewport) → a page in a fresh browser context, signed in as the
    persona ("anonymous", a staff role of world.users, or "portal:<kind>")."""
    contexts = []

    def _open(persona: str, viewport: dict[str, int]):
        state = None
        if persona != "anonymous":
            if persona not in axe_world.states:
                context = browser.new_context(viewport=viewport)
                contexts.append(context)
                page = context.new_page()
                if persona.startswith("portal:"):
                    from openiop.tests.test_portal_access import portal_user

                    user = portal_user(axe_world.world, persona.removeprefix("portal:"))
                    sign_in_portal(page, axe_world.url, user)
                else:
                    sign_in_staff(page, axe_world.url, axe_world.world.users[persona])
                axe_world.states[persona] = context.storage_state()
            state = axe_world.states[persona]
        context = browser.new_context(viewport=viewport, storage_state=state)
        contexts.append(context)
        return context.new_page()

    yield _open
    for context in contexts:
        context.close()


# --- running axe --------------------------------------------------------------------------


# axe-core answers "incomplete" where it cannot decide alone (a colour over an image, an id
# it cannot find): those of serious or critical impact fail too, unless a person reviewed
# them and listed them here: (rule id, an ancestor the element is inside, a fragment of
# axe's message, why).
REVIEWED: list[tuple[str, str, str, str]] = [
    (
        "color-contrast",
        "svg.chart",
        "",
        "Chart text (openiop/core/charts.py) is --text-muted or --danger over white or a "
        "soft band colour, inside an SVG where axe cannot compute the background; the "
        "ratios are pinned by tests/test_accessibility_static.py::"
        "test_chart_text_meets_aa_contrast_on_every_chart_background",
    ),
    (
        "color-contrast",
        "nav.portal-nav",
        "partially obscured",
        "The portal's menu scrolls sideways at 360 px, so axe finds the links past the "
        "edge covered; they are white on --brand-dark (the current one on 20% white over "
        "it), pinned by tests/test_accessibility_static.py::"
        "test_the_portal_menu_meets_aa_contrast",
    ),
    (
        "color-contrast",
        '[aria-hidden="true"]',
        "only non-text characters",
        "A mark hidden from assistive technology (a tick, a circle) beside words that say "
        "the same; axe cannot judge a glyph alone, and decoration needs no contrast",
    ),
]

_INSIDE = """([selector, ancestor]) => {
    const element = document.querySelector(selector);
    return element !== null && element.closest(ancestor) !== null;
}"""


def reviewed(page, rule: str, node: dict[str, Any]) -> bool:
    selector = node["target"][-1]
    if not isinstance(selector, str):  # inside a shadow root: never reviewed
        return False
    messages = " ".join(m["message"] for m in node["any"] + node["all"] + node["none"])
    return any(
        rule == r and fragment in messages and page.evaluate(_INSIDE, [selector, ancestor])
        for r, ancestor, fragment, _ in REVIEWED
    )


def blocking_problems(page, name: str, artifacts) -> list[dict[str, Any]]:
    """The serious and critical violations on the page, and the serious and critical
    "needs review" results nobody reviewed. The whole answer is kept next to the
    screenshots as axe-<name>.json."""
    import json

    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"resultTypes": ["violations", "incomplete"]})
    response = results.response
    (artifacts / f"axe-{name}.json").write_text(
        json.dumps({k: response[k] for k in ("url", "violations", "incomplete")}, indent=1)
    )
    problems = [v for v in response["violations"] if v["impact"] in BLOCKING]
    for v in response["incomplete"]:
        if v["impact"] not in BLOCKING:
            continue
        nodes = [n for n in v["nodes"] if not reviewed(page, v["id"], n)]
        if nodes:
            problems.append({**v, "nodes": nodes, "help": "needs review: " + v["help"]})
    return problems


def describe(problems: list[dict[str, Any]], url: str) -> str:
    lines = [f"{len(problems)} serious or critical axe-core result(s) on {url}:"]
    for v in problems:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
        for node in v["nodes"][:3]:
            target = " ".join(str(t) for t in node["target"])
            messages = [m["message"] for m in node["any"] + node["all"] + node["none"]]
            lines.append(f"    at {target}: {'; '.join(messages)[:300]}")
        if len(v["nodes"]) > 3:
            lines.append(f"    … and {len(v['nodes']) - 3} more element(s)")
    return "\n".join(lines)


def check(page, name: str, artifacts) -> None:
    page.screenshot(path=str(artifacts / f"axe-{name}.png"), full_page=True)
    problems = blocking_problems(page, name, artifacts)
    assert not problems, describe(problems, page.url)


def check_page(page, url: str, status: int, artifacts, name: str) -> None:
    response = page.goto(url)
    assert response is not None
    assert response.status == status, f"{url} answered {response.status}, expected {status}"
    page.wait_for_load_state("load")
    check(page, name, artifacts)


def test_the_check_fails_on_a_page_with_serious_violations(browser, artifacts):
    """The machinery itself: a page with an image without alt text, an unlabelled field
    and faint text fails, and the message names each rule and element."""
    context = browser.new_context()
    page = context.new_page()
    page.set_content(
        "<!doctype html><html><head><title>Broken</title></head><body><main>"
        '<h1>Broken</h1><img src="x.png"><input name="q">'
        '<p style="color:#bbb;background:#fff">Faint text</p></main></body></html>'
    )
    problems = blocking_problems(page, "self-test", artifacts)
    context.close()
    assert {p["id"] for p in problems} >= {"image-alt", "label", "color-contrast", "html-has-lang"}
    message = describe(problems, "about:blank")
    assert "image-alt (critical)" in message
    assert "at img:" in message


# --- staff pages --------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffPage:
    id: str
    persona: str
    url: Callable[[Any], str]
    status: int = 200
    # Something to do on the page before axe runs (a search typed, a menu opened).
    then: Callable[[Any], None] | None = None


def u(name: str, **kw: Callable[[Any], Any]) -> Callable[[Any], str]:
    """The URL of `name`, its kwargs computed from the world."""
    return lambda w: reverse(name, kwargs={k: f(w) for k, f in kw.items()})


def active(w):
    return w.active.pk


def discharged(w):
    from openiop.testing import add_discharge

    add_discharge(w)
    return w.discharged.pk


def with_aftercare(w):
    from openiop.testing import add_aftercare

    add_aftercare(w)
    return w.active.pk


def billed(w):
    from openiop.testing import add_claim

    add_claim(w)
    return w.claim


def api_client(w):
    """Issue 12: an outside client of world.program with a token and a read of Patient
    (world.active's TPO consent covers it), so its page has tokens and reads."""
    from openiop.fhir.models import ClientKind
    from openiop.fhir.testing import get, make_client, make_token

    if "api_client" not in w.records:
        client, _ = make_client(w.program, kind=ClientKind.OUTSIDE, name="Mercy Hospital")
        get("Patient", make_token(client))
        w.records["api_client"] = client
    return w.records["api_client"]


def alumni(w, name: str = "follow_up"):
    from openiop.testing import add_discharged

    add_discharged(w)
    return w.records[name]


def submit_empty(page) -> None:
    page.locator("main form.card button[type=submit]").click()
    page.wait_for_load_state("load")


def search_for_active(page) -> None:
    page.get_by_role("searchbox", name="Search").fill("Active")
    page.get_by_role("searchbox", name="Search").press("Enter")
    page.wait_for_url(re.compile(r"\?search=1"))


STAFF_PAGES = [
    StaffPage("sign-in", "anonymous", u("accounts:login")),
    StaffPage("today-counsellor", "counsellor", u("core:today")),
    StaffPage("today-lab", "lab", u("core:today")),
    StaffPage("today-director", "director", u("core:today")),
    StaffPage("today-compliance", "compliance", u("core:today")),
    StaffPage("participant-search", "counsellor", u("participants:list"), then=search_for_active),
    StaffPage("participant-new-errors", "intake", u("participants:new"), then=submit_empty),
    StaffPage("chart", "counsellor", u("participants:chart", pk=active)),
    StaffPage("contacts", "counsellor", u("contacts:list", pk=active)),
    StaffPage("referral-board", "intake", u("intake:board")),
    StaffPage(
        "referral",
        "intake",
        u("intake:referral", episode_pk=lambda w: w.screening.current_episode_id),
    ),
    StaffPage(
        "assessment-draft",
        "counsellor",
        u("intake:assessment_edit", pk=lambda w: w.draft_assessment.pk),
    ),
    StaffPage(
        "calendar-week",
        "counsellor",
        lambda w: reverse("scheduling:calendar") + f"?date={w.cancelled_session.date}",
    ),
    StaffPage(
        "attendance-roster", "counsellor", u("attendance:session", pk=lambda w: w.session.pk)
    ),
    StaffPage("group-note", "counsellor", u("notes_home:group", session_pk=lambda w: w.session.pk)),
    StaffPage(
        "note-edit",
        "counsellor",
        u("notes:edit", pk=active, note_pk=lambda w: w.draft_note.pk),
    ),
    StaffPage("unsigned-notes", "supervisor", u("notes_home:unsigned")),
    StaffPage("treatment-plan", "counsellor", u("plans:current", pk=active)),
    StaffPage(
        "treatment-plan-edit",
        "counsellor",
        u("plans:edit", pk=active, plan_pk=lambda w: w.draft_plan.pk),
    ),
    StaffPage("relapse-plan", "counsellor", u("relapse:current", pk=active)),
    StaffPage(
        "relapse-plan-edit",
        "counsellor",
        u("relapse:edit", pk=active, plan_pk=lambda w: w.relapse_draft.pk),
    ),
    # Issue 10: the discharge form (world.active, in care) and the summary of a discharge
    # (`add_discharge`: a draft) with its signing page.
    StaffPage("discharge-form", "counsellor", u("discharge:discharge", pk=active)),
    StaffPage("discharge-summary", "counsellor", u("discharge:summary", pk=discharged)),
    StaffPage("discharge-sign", "counsellor", u("discharge:sign", pk=discharged)),
    # Issue 10: the aftercare plan (world.active's, `add_aftercare`) and the alumni pages
    # (`add_discharged`: the worklist, a follow-up, an event with its attendance form).
    StaffPage("aftercare-plan", "counsellor", u("aftercare:plan", pk=with_aftercare)),
    StaffPage("aftercare-referral", "counsellor", u("aftercare:referral_new", pk=with_aftercare)),
    StaffPage("alumni-worklist", "counsellor", lambda w: alumni(w) and reverse("alumni:worklist")),
    StaffPage("alumni-follow-up", "counsellor", u("alumni:follow_up", pk=lambda w: alumni(w).pk)),
    StaffPage("alumni-events", "counsellor", lambda w: alumni(w) and reverse("alumni:events")),
    StaffPage(
        "alumni-event",
        "counsellor",
        u("alumni:event", pk=lambda w: alumni(w, "alumni_event").pk),
    ),
    StaffPage("measures", "counsellor", u("measures:list", pk=active)),
    StaffPage("measures-due", "counsellor", u("instruments:due")),
    StaffPage("screening-today", "lab", u("screening:today")),
    StaffPage(
        "screening-order",
        "lab",
        u("participant_screening:order", pk=active, order_pk=lambda w: w.screen_random.pk),
    ),
    StaffPage("screening-reviews", "counsellor", u("screening:reviews")),
    StaffPage("screening-timeline", "counsellor", u("participant_screening:timeline", pk=active)),
    StaffPage("consents-program", "compliance", u("privacy:consents")),
    StaffPage("consents-chart", "compliance", u("consents:list", pk=active)),
    StaffPage(
        "consent",
        "compliance",
        u("consents:detail", pk=active, consent_pk=lambda w: w.consent.pk),
    ),
    StaffPage("release", "counsellor", u("participant_privacy:release", pk=active)),
    StaffPage("accounting", "compliance", u("participant_privacy:accounting", pk=active)),
    StaffPage("disclosures", "compliance", u("privacy:disclosures")),
    StaffPage("outbox", "director", u("notify:outbox")),
    StaffPage("outcomes", "director", u("outcomes:dashboard")),
    StaffPage("outcomes-definitions", "director", u("outcomes:definitions")),
    # H4 (issue 10): TEDS items (intake's form; a supervisor's read-only page) and export.
    StaffPage("teds-items", "intake", u("teds_items:edit", pk=active)),
    StaffPage("teds-items-read", "supervisor", u("teds_items:edit", pk=active)),
    StaffPage(
        "teds-export",
        "compliance",
        lambda w: reverse("teds:export")
        + f"?date_from={w.program.today().replace(day=1, month=1)}&date_to={w.program.today()}",
    ),
    # Issue 11: billing (world.active's coverage, authorisation and claim, `add_claim`).
    StaffPage("billing-board", "billing", lambda w: billed(w) and reverse("billing:board")),
    StaffPage("billing-days", "billing", lambda w: billed(w) and reverse("billing:days")),
    StaffPage("billing-risks", "billing", lambda w: billed(w) and reverse("billing:risks")),
    StaffPage("billing-claims", "billing", lambda w: billed(w) and reverse("billing:claims")),
    StaffPage("billing-claim", "billing", lambda w: reverse("billing:claim", args=[billed(w).pk])),
    StaffPage("billing-build", "billing", lambda w: billed(w) and reverse("billing:build")),
    StaffPage("billing-payers", "billing", lambda w: billed(w) and reverse("billing:payers")),
    StaffPage("billing-profile", "billing", lambda w: billed(w) and reverse("billing:profile")),
    StaffPage(
        "billing-coverage",
        "billing",
        lambda w: billed(w) and reverse("coverage:overview", args=[w.active.pk]),
    ),
    StaffPage(
        "billing-packet",
        "counsellor",
        lambda w: billed(w) and reverse("coverage:packet", args=[w.active.pk, w.authorisation.pk]),
    ),
    # Issue 12: the API clients (an outside client with a token and a read, `api_client`).
    StaffPage("api-clients", "admin", lambda w: api_client(w) and reverse("api_clients:list")),
    StaffPage(
        "api-client", "admin", lambda w: reverse("api_clients:detail", args=[api_client(w).pk])
    ),
    StaffPage("api-client-new-errors", "director", u("api_clients:new"), then=submit_empty),
    StaffPage("amendments", "compliance", u("amendments:list", pk=active)),
    StaffPage("audit-log", "compliance", u("core:audit_log")),
    StaffPage("staff-list", "admin", u("accounts:staff_list")),
    StaffPage("programs-home", "director", u("programs:home")),
    StaffPage("mfa", "counsellor", u("accounts:mfa")),
    StaffPage("forbidden-403", "norole", u("participants:chart", pk=active), status=403),
    StaffPage("not-found-404", "counsellor", lambda w: "/participants/999999/", status=404),
]


@pytest.mark.parametrize("spec", STAFF_PAGES, ids=[s.id for s in STAFF_PAGES])
def test_staff_page_has_no_serious_accessibility_violation(spec, axe_world, open_as, artifacts):
    page = open_as(spec.persona, STAFF_VIEWPORT)
    url = axe_world.url + spec.url(axe_world.world)
    if spec.then is None:
        check_page(page, url, spec.status, artifacts, spec.id)
        return
    page.goto(url)
    spec.then(page)
    check(page, spec.id, artifacts)


# --- portal pages: every name of PORTAL_RULES, at a phone's width -------------------------


def portal_rule_names() -> list[str]:
    from openiop.tests.test_portal_access import PORTAL_RULES

    return sorted(PORTAL_RULES)


@pytest.mark.parametrize("name", portal_rule_names())
def test_portal_page_has_no_serious_accessibility_violation(name, axe_world, open_as, artifacts):
    from openiop.tests.test_portal_access import PORTAL_RULES

    rule = PORTAL_RULES[name]
    page = open_as(f"portal:{rule.kind}", PHONE_VIEWPORT)
    url = axe_world.url + reverse(name, kwargs=rule.kwargs(axe_world.world))
    answer = page.request.get(url)
    assert answer.status == 200, f"{url} answered {answer.status}"
    if not answer.headers["content-type"].startswith("text/html"):
        # A download (a letter's PDF): no page for axe; its text is the letters' tests'.
        assert answer.headers["content-type"] == "application/pdf", answer.headers
        return
    check_page(page, url, 200, artifacts, "portal-" + name.replace(":", "-"))


def test_portal_sign_in_page_has_no_serious_accessibility_violation(axe_world, open_as, artifacts):
    page = open_as("anonymous", PHONE_VIEWPORT)
    check_page(page, axe_world.url + reverse("portal:login"), 200, artifacts, "portal-login")
    # The page with the form's error shown.
    page.get_by_label("Username").fill("nobody")
    page.get_by_label("Password").fill("wrong")
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state("load")
    check(page, "portal-login-error", artifacts)


# --- public portal pages: an invitation, one-tap links, the letters' verification ---------


def invitation_url(w) -> str:
    """An invitation for world.foreign (world.active has an account already)."""
    from openiop.portal import services

    _, raw = services.invite(w.foreign, kind="participant", channel="printed", actor=w.outsider)
    return reverse("portal:accept", args=[raw])


def onetap_url(**options: Any) -> Callable[[Any], str]:
    def make(w) -> str:
        from openiop.portal import onetap

        return onetap.issue(w.active, **options)

    return make


def verify_url(w) -> str:
    from openiop.testing import add_letter

    add_letter(w)
    return reverse("verify_letter")


def type_the_letter_code(page) -> None:
    from openiop.testing import LETTER_CODE

    page.get_by_label("Verification code").fill(LETTER_CODE)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state("load")


PUBLIC_PORTAL_PAGES = [
    StaffPage("accept-invitation", "anonymous", invitation_url),
    StaffPage("onetap-check-in", "anonymous", onetap_url(purpose="check_in")),
    StaffPage(
        "onetap-questionnaire",
        "anonymous",
        onetap_url(purpose="instrument", instrument_code="GAD-7"),
    ),
    StaffPage("onetap-unknown", "anonymous", lambda w: "/t/not-a-real-link", status=404),
    StaffPage("verify-letter", "anonymous", verify_url),
    StaffPage("verify-letter-genuine", "anonymous", verify_url, then=type_the_letter_code),
]


@pytest.mark.parametrize("spec", PUBLIC_PORTAL_PAGES, ids=[s.id for s in PUBLIC_PORTAL_PAGES])
def test_public_portal_page_has_no_serious_accessibility_violation(
    spec, axe_world, open_as, artifacts
):
    page = open_as(spec.persona, PHONE_VIEWPORT)
    url = axe_world.url + spec.url(axe_world.world)
    check_page(page, url, spec.status, artifacts, "public-" + spec.id)
    if spec.then is not None:
        spec.then(page)
        check(page, f"public-{spec.id}-after", artifacts)
