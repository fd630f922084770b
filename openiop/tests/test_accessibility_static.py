"""Accessibility checks that need no browser (issue 9, point 7), beside the axe-core run of
openiop/browser_tests/test_accessibility.py:

- every page of the project (each URL of `RULES` and `PORTAL_RULES`, as the user it is
  for) has unique ids, ARIA and label references that point at an element of the page,
  a label for every form field, a name for every button and a text alternative for every
  image. axe-core reports most of these, but only on the pages the browser test visits;
  this walks them all in seconds;
- the colours axe-core cannot measure (text inside an SVG chart, a menu that scrolls out
  of sight) meet WCAG 2 AA contrast (4.5:1 for text), read from the style sheets.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.test import Client, TestCase
from django.urls import reverse

CORE_CSS = Path(__file__).resolve().parents[1] / "core" / "static" / "openiop" / "app.css"
PORTAL_CSS = Path(__file__).resolve().parents[1] / "portal" / "static" / "portal" / "portal.css"

# Attributes whose value names ids of the page (space-separated where ARIA allows a list).
ID_REFERENCES = (
    "aria-describedby",
    "aria-labelledby",
    "aria-controls",
    "aria-owns",
    "aria-errormessage",
    "aria-activedescendant",
    "aria-details",
)
NOT_FIELDS = {"hidden", "submit", "button", "reset", "image"}


class PageChecker(HTMLParser):
    """Collects what the page's markup says about ids, labels and names."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: dict[str, int] = {}
        self.references: list[tuple[str, str, str]] = []  # (tag, attribute, id)
        self.label_for: set[str] = set()
        self.fields: list[tuple[str, dict[str, str], bool]] = []  # (tag, attrs, in a label)
        self.label_depth = 0
        self.buttons: list[dict[str, Any]] = []  # open and closed <button>s
        self.open_buttons: list[dict[str, Any]] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        attrs = {k: v or "" for k, v in attrs_list}
        if "id" in attrs:
            self.ids[attrs["id"]] = self.ids.get(attrs["id"], 0) + 1
        for name in ID_REFERENCES:
            for ref in attrs.get(name, "").split():
                self.references.append((tag, name, ref))
        if tag == "label":
            self.label_depth += 1
            if attrs.get("for"):
                self.label_for.add(attrs["for"])
                self.references.append((tag, "for", attrs["for"]))
        elif tag in ("input", "select", "textarea"):
            if not (tag == "input" and attrs.get("type", "text") in NOT_FIELDS):
                self.fields.append((tag, attrs, self.label_depth > 0))
        elif tag == "img" and "alt" not in attrs:
            self.problems.append(f"<img src={attrs.get('src', '')!r}> has no alt text")
        if tag == "button":
            button = {"attrs": attrs, "text": ""}
            self.buttons.append(button)
            self.open_buttons.append(button)
        elif tag in ("img", "svg") and self.open_buttons:
            # An image inside a button names it by its alt or title.
            self.open_buttons[-1]["text"] += attrs.get("alt", "") + attrs.get("aria-label", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "label" and self.label_depth:
            self.label_depth -= 1
        elif tag == "button" and self.open_buttons:
            self.open_buttons.pop()

    def handle_data(self, data: str) -> None:
        for button in self.open_buttons:
            button["text"] += data

    def report(self) -> list[str]:
        problems = list(self.problems)
        problems += [f'id="{i}" is used {n} times' for i, n in self.ids.items() if n > 1]
        problems += [
            f'<{tag} {attr}="{ref}"> names an id that is not on the page'
            for tag, attr, ref in self.references
            if ref not in self.ids
        ]
        for tag, attrs, in_label in self.fields:
            named = (
                in_label
                or attrs.get("id", "") in self.label_for
                or attrs.get("aria-label", "").strip()
                or attrs.get("aria-labelledby", "").strip()
                or attrs.get("title", "").strip()
            )
            if not named:
                problems.append(f"<{tag} name={attrs.get('name', '')!r}> has no label")
        for button in self.buttons:
            a = button["attrs"]
            if not (button["text"].strip() or a.get("aria-label") or a.get("aria-labelledby")):
                problems.append(f"<button name={a.get('name', '')!r}> has no accessible name")
        return problems


def page_problems(html: str) -> list[str]:
    checker = PageChecker()
    checker.feed(html)
    checker.close()
    return checker.report()


def test_the_checker_finds_what_it_looks_for():
    html = """
      <label for="a">A</label><input id="a" name="a">
      <input id="b" name="b" aria-describedby="b_helptext">
      <label>C <input name="c"></label>
      <select name="d" aria-label="D"></select>
      <p id="a"></p>
      <button></button><button aria-label="Close"></button><button>Save</button>
      <img src="x.png"><input type="hidden" name="e">
    """
    assert sorted(page_problems(html)) == sorted(
        [
            'id="a" is used 2 times',
            '<input aria-describedby="b_helptext"> names an id that is not on the page',
            "<input name='b'> has no label",
            "<button name=''> has no accessible name",
            "<img src='x.png'> has no alt text",
        ]
    )


# Pages that answer otherwise in the world shared by the others, each checked in a world
# of its own (the `world` fixture): invitations (world.active has a portal account there:
# 409), enrolment (norole has an authenticator there: 302), voiding the employer consent
# (a disclosure relied on it there: 409).
OWN_WORLD = (
    "accounts:mfa_enrol",
    "consents:void",
    "participant_portal:invitation",
    "participant_portal:invite",
    "participant_portal:revoke",
)


def every_page() -> list[tuple[str, Any, str]]:
    """(url name, kwargs(world), who): staff pages (who: the persona allowed), portal
    pages (who: "portal:participant" or "portal:family"), public pages ("anonymous")."""
    from openiop.tests.test_portal_access import PORTAL_RULES
    from openiop.tests.test_url_access import RULES

    staff = [(n, r.kwargs, r.allowed) for n, r in sorted(RULES.items()) if not r.post_only]
    portal = [(n, r.kwargs, "portal:" + r.kind) for n, r in sorted(PORTAL_RULES.items())]
    public = [(n, kwargs, "anonymous") for n, kwargs in PUBLIC_PAGES]
    return staff + portal + public


def invitation(world: Any) -> dict[str, str]:
    """An invitation for world.foreign (world.active may have an account already)."""
    from openiop.portal import services

    _, raw = services.invite(
        world.foreign, kind="participant", channel="printed", actor=world.outsider
    )
    return {"token": raw}


def onetap_link(world: Any) -> dict[str, str]:
    from openiop.portal import onetap

    return {"token": onetap.issue(world.active, purpose="check_in").rsplit("/", 1)[-1]}


# Public pages with a page to show (sign-out, the idle end and the feeds have none).
PUBLIC_PAGES: list[tuple[str, Any]] = [
    ("accounts:login", lambda w: {}),
    ("portal:login", lambda w: {}),
    ("portal:accept", invitation),
    ("onetap", onetap_link),
    ("verify_letter", lambda w: {}),
]


def user_for(world: Any, who: str) -> Any:
    from openiop.tests.test_portal_access import portal_user

    if who == "anonymous":
        return None
    if who.startswith("portal:"):
        return portal_user(world, who.removeprefix("portal:"))
    return world.users[who]


def markup_problems(name: str, url: str, response: Any) -> list[str]:
    """What is wrong with a page (nothing for a PDF, a CSV or a calendar feed)."""
    if response.status_code != 200:
        return [f"{name}: answered {response.status_code}, expected 200"]
    if not response.get("Content-Type", "").startswith("text/html"):
        return []
    return [f"{name} ({url}): {p}" for p in page_problems(response.content.decode())]


class EveryPageHasSoundMarkup(TestCase):
    """One world for every page but OWN_WORLD's, built once (`setUpTestData`); each page's
    GET is rolled back, so one page's side effects (an audit event, a draft) never reach
    the next. Walking ~200 pages this way takes seconds, not a world each."""

    @classmethod
    def setUpTestData(cls) -> None:
        from openiop.testing import build_world

        cls.world = build_world()
        cls.pages: list[tuple[str, Any, str]] = []  # (name, user, url)
        for name, kwargs, who in every_page():
            if name not in OWN_WORLD:
                url = reverse(name, kwargs=kwargs(cls.world))
                cls.pages.append((name, user_for(cls.world, who), url))

    def test_every_page_has_unique_ids_labels_and_names(self) -> None:
        wrong: list[str] = []
        html_pages = 0
        for name, user, url in self.pages:
            with transaction.atomic():
                client = Client()
                if user is not None:
                    client.force_login(user)
                response = client.get(url)
                transaction.set_rollback(True)
            html_pages += response.get("Content-Type", "").startswith("text/html")
            wrong += markup_problems(name, url, response)
        assert html_pages > 150, html_pages  # the walk reached the pages
        assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("name", OWN_WORLD)
def test_pages_of_their_own_world_have_unique_ids_labels_and_names(client, world, name):
    kwargs, who = {n: (k, w) for n, k, w in every_page()}[name]
    url = reverse(name, kwargs=kwargs(world))
    if who != "anonymous":
        client.force_login(user_for(world, who))
    wrong = markup_problems(name, url, client.get(url))
    assert not wrong, "\n".join(wrong)


# --- colours axe-core cannot measure ---------------------------------------------------------


def css_variables(css: str) -> dict[str, str]:
    root = re.search(r":root\s*{(.*?)}", css, re.S)
    assert root, "app.css has no :root block"
    return dict(re.findall(r"(--[\w-]+):\s*([^;]+);", root.group(1)))


def declarations(css: str, selector: str) -> dict[str, str]:
    """The declarations of the rule whose selector list is exactly `selector`."""
    match = re.search(r"(?:^|})\s*" + re.escape(selector) + r"\s*{([^}]*)}", css, re.M)
    assert match, f"no rule for {selector}"
    return {
        k.strip(): v.strip()
        for k, v in (d.split(":", 1) for d in match.group(1).split(";") if ":" in d)
    }


def rgb(value: str, variables: dict[str, str]) -> tuple[float, float, float, float]:
    value = value.strip()
    var = re.fullmatch(r"var\((--[\w-]+)\)", value)
    if var:
        return rgb(variables[var.group(1)], variables)
    if value.startswith("#"):
        digits = value[1:]
        if len(digits) == 3:
            digits = "".join(c * 2 for c in digits)
        return (*(int(digits[i : i + 2], 16) for i in (0, 2, 4)), 1.0)  # type: ignore[return-value]
    rgba = re.fullmatch(r"rgba?\(([^)]*)\)", value)
    assert rgba, f"cannot read the colour {value!r}"
    parts = [float(p) for p in rgba.group(1).split(",")]
    return (parts[0], parts[1], parts[2], parts[3] if len(parts) > 3 else 1.0)


def over(top: tuple[float, ...], bottom: tuple[float, ...]) -> tuple[float, float, float, float]:
    """`top` (with its alpha) painted over an opaque `bottom`."""
    a = top[3]
    r, g, b = (top[i] * a + bottom[i] * (1 - a) for i in range(3))
    return (r, g, b, 1.0)


def contrast(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """WCAG 2 contrast ratio of two opaque colours."""

    def luminance(c: tuple[float, ...]) -> float:
        def channel(v: float) -> float:
            v /= 255
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

        return 0.2126 * channel(c[0]) + 0.7152 * channel(c[1]) + 0.0722 * channel(c[2])

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_contrast_matches_the_wcag_examples():
    black, white = (0, 0, 0, 1.0), (255, 255, 255, 1.0)
    assert contrast(black, white) == pytest.approx(21)
    assert contrast((118, 118, 118, 1.0), white) == pytest.approx(4.54, abs=0.01)


def test_chart_text_meets_aa_contrast_on_every_chart_background():
    """Charts (openiop/core/charts.py) are SVG: axe-core cannot find the colour behind
    their text. Every text colour of a chart on every colour a chart paints, including
    the "mild" band drawn at partial opacity, is at least 4.5:1; no chart text is faded."""
    css = CORE_CSS.read_text()
    v = css_variables(css)
    surface = rgb("var(--surface)", v)
    backgrounds = {"surface": surface}
    for band in ("ok", "mild", "moderate", "severe"):
        rule = declarations(css, f".chart-band-{band}")
        fill = rgb(rule["fill"], v)
        alpha = float(rule.get("fill-opacity", "1"))
        backgrounds[band] = over((*fill[:3], alpha), surface)
    texts = {
        sel: declarations(css, sel)
        for sel in (
            ".chart text",
            ".chart .chart-band-label",
            ".chart .chart-threshold-label",
        )
    }
    for sel, rule in texts.items():
        assert "opacity" not in rule and "fill-opacity" not in rule, f"{sel} is faded"
        fill = rgb(rule.get("fill", texts[".chart text"]["fill"]), v)
        for where, background in backgrounds.items():
            ratio = contrast(fill, background)
            assert ratio >= 4.5, f"{sel} on {where}: {ratio:.2f}:1"


def test_the_portal_menu_meets_aa_contrast():
    """The portal's menu scrolls sideways on a phone; axe-core finds the links past the
    edge covered and cannot measure them. White on the bar, and on the current page's
    highlight, is at least 4.5:1."""
    v = css_variables(CORE_CSS.read_text())
    css = PORTAL_CSS.read_text()
    bar = rgb(declarations(css, ".portal-bar")["background"], v)
    link = rgb(declarations(css, ".portal-nav a")["color"], v)
    current = over(
        rgb(declarations(css, '.portal-nav a[aria-current="page"]')["background"], v), bar
    )
    assert contrast(link, bar) >= 4.5
    assert contrast(link, current) >= 4.5


def test_cancelled_calendar_sessions_are_not_faded():
    """A cancelled session on the calendar was drawn at 60% opacity (about 4:1 for its
    text, 2.5:1 for its times); it is muted by colour instead, which stays readable."""
    css = CORE_CSS.read_text()
    v = css_variables(css)
    rule = declarations(css, ".cal-session.is-cancelled")
    assert "opacity" not in rule
    assert contrast(rgb(rule["color"], v), rgb(rule["background"], v)) >= 4.5
