"""`make load` (issue 13, point 4): a clinic's busy hour against gunicorn, from locust.

Run only by `openiop load` (openiop/perf/load.py) as its own command — locust patches the
process with gevent on import, so nothing here is imported by Django or pytest. It reads:

  OPENIOP_LOAD_PLAN  the plan `openiop load` wrote before starting gunicorn (JSON): the
                     staff and portal logins, the sessions each simulated counsellor owns,
                     the participants in care, how many simulated users are staff
  OPENIOP_LOAD_LOG   where to append every write this run saw succeed (JSON lines)
  OPENIOP_LOAD_MODE  "pages" (the realistic mix) or "bare" (the same users, spawn rate and
                     pacing, every request to the bare view /perf/bare: the baseline)

Staff (counsellors): the today board, charts, a session's roster with attendance taken, an
individual progress note written and signed, a group note written and signed. Participants
on the portal: home, the daily check-in, their progress. Every write carries a unique
marker (`LW-<uuid>`) in its free text, and is logged only once the app answered with its
success page echoing the value saved; `openiop load` then proves each is in the database
exactly once. A write's answer that is not that success page is a locust failure.

No two simulated users write the same record: each counsellor owns its own sessions (the
plan hands them out), so a conflict answer (409) is a failure here, not a race of the test.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import uuid
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from locust import HttpUser, between, task

PLAN: dict[str, Any] = json.loads(open(os.environ["OPENIOP_LOAD_PLAN"]).read())  # noqa: SIM115
LOG_PATH = os.environ["OPENIOP_LOAD_LOG"]
MODE = os.environ.get("OPENIOP_LOAD_MODE", "pages")
PASSWORD = PLAN["password"]

# Real people pause to read and type between screens: a few seconds.
STAFF_WAIT = between(2, 6)
PORTAL_WAIT = between(3, 8)
# The marks a counsellor sets, as often as a real roster has them.
# The share of "sign in again" turns that sign in (the rest open the home page).
SIGN_IN_AGAIN = 0.2
STATUSES = ["present"] * 6 + ["telehealth", "late", "left_early", "absent_excused"]

# Which participant, session and mark: not secrets, so a plain generator.
RNG = random.Random()  # noqa: S311
_staff_seq = itertools.count()
_portal_seq = itertools.count()
_log = open(LOG_PATH, "a", buffering=1)  # noqa: SIM115  (line-buffered, for the whole run)


def log_write(record: dict[str, Any]) -> None:
    """One write the app confirmed. locust runs every user in one process (gevent), and a
    line-buffered write of one line is not interleaved with another greenlet's."""
    _log.write(json.dumps(record, sort_keys=True) + "\n")


def marker() -> str:
    return f"LW-{uuid.uuid4().hex}"


class _Forms(HTMLParser):
    """Every <form> of a page with the values a browser would submit by default: inputs'
    values (checked ones for radios and checkboxes), textareas' text, selects' selected
    (or first) option. Disabled fields and buttons are left out."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[list[list[str]]] = []
        self._form: list[list[str]] | None = None
        self._textarea: list[str] | None = None
        self._select: str | None = None
        self._select_first: str | None = None
        self._select_chosen = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self._form = []
            self.forms.append(self._form)
            return
        if self._form is None or "disabled" in a:
            return
        name = a.get("name", "")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("radio", "checkbox") and "checked" not in a:
                return
            self._form.append([name, a.get("value", "on" if kind == "checkbox" else "")])
        elif tag == "textarea" and name:
            self._textarea = [name, ""]
            self._form.append(self._textarea)
        elif tag == "select" and name:
            self._select, self._select_first, self._select_chosen = name, None, False
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            if self._select_first is None:
                self._select_first = value
            if "selected" in a and not self._select_chosen:
                self._form.append([self._select, value])
                self._select_chosen = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select" and self._select is not None:
            if not self._select_chosen and self._select_first is not None and self._form:
                self._form.append([self._select, self._select_first])
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea[1] += data


def form_with(html: str, field: str) -> dict[str, str] | None:
    """The default submission of the page's first form holding `field` (a name, or a
    regular expression with `re:`), as a dict (the last value of a repeated name wins)."""
    parser = _Forms()
    parser.feed(html)
    for fields in parser.forms:
        names = [n for n, _v in fields]
        if field.startswith("re:"):
            found = any(re.fullmatch(field[3:], n) for n in names)
        else:
            found = field in names
        if found:
            return dict(fields)
    return None


class _Client(HttpUser):
    abstract = True
    username = ""

    def sign_in(self, path: str, username: str, check: str) -> None:
        page = self.client.get(path, name=f"{path} (sign-in page)")
        form = form_with(page.text, "username") or {}
        form.update({"username": username, "password": PASSWORD})
        with self.client.post(path, data=form, name=f"{path} (sign in)", catch_response=True) as r:
            if r.status_code != 200 or urlsplit(r.url).path != check:
                r.failure(f"sign-in of {username} did not land on {check}: {r.url}")

    def fail(self, response: Any, why: str) -> None:
        response.failure(f"{self.username}: {why}")


class Staff(_Client):
    """A counsellor: reads the board and charts, takes attendance, writes and signs notes."""

    abstract = MODE != "pages"
    fixed_count = PLAN["staff_users"]
    wait_time = STAFF_WAIT

    def on_start(self) -> None:
        n = next(_staff_seq)
        # The session made for cookie k is of login k (mod the logins): keep them paired.
        k = n % len(PLAN["staff_cookies"])
        self.username = PLAN["staff_logins"][k % len(PLAN["staff_logins"])]
        # Sessions handed out round-robin among the simulated counsellors: owned by one.
        sessions = PLAN["sessions"]
        self.sessions = sessions[n :: max(PLAN["staff_users"], 1)]
        # (session, episode) pairs this user has marked: each is marked once per run, so
        # the database must hold exactly the mark logged for it.
        self.marked: set[tuple[int, int]] = set()
        self.group_done: set[int] = set()
        # Signed in before the run (openiop load made the session), as at mid-morning.
        self.client.cookies.set(PLAN["cookie"], PLAN["staff_cookies"][k])

    @task(1)
    def sign_in_again(self) -> None:
        """Now and then someone signs in again (after the idle sign-out, on another
        computer): a real sign-in, password hash and all."""
        if RNG.random() < SIGN_IN_AGAIN:
            self.client.cookies.clear()
            self.sign_in("/accounts/login/", self.username, "/")
        else:
            self.today_board()

    @task(3)
    def today_board(self) -> None:
        self.client.get("/", name="today board")

    @task(4)
    def chart(self) -> None:
        pk = RNG.choice(PLAN["participants"])
        self.client.get(f"/participants/{pk}/", name="chart")

    @task(1)
    def search(self) -> None:
        q = RNG.choice(PLAN["search_terms"])
        self.client.get("/participants/", params={"q": q}, name="participant list (search)")

    @task(3)
    def take_attendance(self) -> None:
        todo = [
            (s, e) for s in self.sessions for e in s["episodes"] if (s["pk"], e) not in self.marked
        ]
        if not todo:
            self.chart()
            return
        session = RNG.choice(todo)[0]
        url = f"/attendance/sessions/{session['pk']}/"
        page = self.client.get(url, name="session roster")
        form = form_with(page.text, "re:status_\\d+")
        if form is None or page.status_code != 200:
            self.fail(page, f"no roster form on {url}")
            return
        rows = [e for e in session["episodes"] if (session["pk"], e) not in self.marked]
        rows = [e for e in rows if f"status_{e}" in form][: RNG.randint(1, 3)]
        writes = []
        for episode in rows:
            status = RNG.choice(STATUSES)
            mark = marker()
            form[f"status_{episode}"] = status
            form[f"minutes_{episode}"] = "10" if status in ("late", "left_early") else ""
            form[f"note_{episode}"] = f"Load run {mark}"
            writes.append((episode, status, mark))
        form["action"] = "save"
        with self.client.post(url, data=form, name="attendance (save)", catch_response=True) as r:
            if r.status_code != 200 or not r.url.endswith(url) or "Attendance saved" not in r.text:
                self.fail(r, f"attendance not saved ({r.status_code})")
                return
            missing = [m for _e, _s, m in writes if m not in r.text]
            if missing:
                self.fail(r, "the roster does not show the marks saved")
                return
        for episode, status, mark in writes:
            self.marked.add((session["pk"], episode))
            log_write(
                {
                    "kind": "attendance",
                    "marker": mark,
                    "session": session["pk"],
                    "episode": episode,
                    "status": status,
                    "user": self.username,
                }
            )

    @task(2)
    def individual_note(self) -> None:
        pk = RNG.choice(PLAN["participants"])
        base = f"/participants/{pk}/notes/"
        page = self.client.get(base + "new/", name="note (new)")
        form = form_with(page.text, "service_date")
        if form is None:
            self.fail(page, "no new-note form")
            return
        form.update(
            {"format": "dap", "session": "", "service_date": PLAN["today"], "minutes": "50"}
        )
        with self.client.post(
            base + "new/", data=form, name="note (start)", catch_response=True
        ) as r:
            found = re.search(r"/notes/(\d+)/edit/$", r.url)
            if r.status_code != 200 or not found:
                self.fail(r, f"the note was not started ({r.status_code})")
                return
            editor = form_with(r.text, "version")
        if editor is None:
            return
        mark = marker()
        for name in [n for n in editor if n.startswith("section_")]:
            editor[name] = f"Reviewed coping plan and cravings this week. {mark}"
        editor["action"] = "sign"
        note_pk = found.group(1)
        with self.client.post(
            f"{base}{note_pk}/edit/", data=editor, name="note (sign)", catch_response=True
        ) as r:
            if (
                r.status_code != 200
                or not r.url.endswith(f"/notes/{note_pk}/")
                or mark not in r.text
                or "signed and locked" not in r.text
            ):
                self.fail(r, f"the note was not signed ({r.status_code})")
                return
        log_write(
            {
                "kind": "note",
                "marker": mark,
                "participant": pk,
                "note": int(note_pk),
                "user": self.username,
            }
        )

    @task(1)
    def group_note(self) -> None:
        free = [s for s in self.sessions if s["group_note_free"] and s["pk"] not in self.group_done]
        if not free:
            self.today_board()
            return
        session = free[0]
        url = f"/notes/group/{session['pk']}/"
        page = self.client.get(url, name="group note (open)")
        if form_with(page.text, "version") is None:
            start = form_with(page.text, "csrfmiddlewaretoken")
            if start is None:
                self.fail(page, "no group-note start form")
                return
            with self.client.post(
                url, data=start, name="group note (start)", catch_response=True
            ) as page:
                if page.status_code != 200 or form_with(page.text, "version") is None:
                    self.fail(page, f"the group note was not started ({page.status_code})")
                    return
        form = form_with(page.text, "version") or {}
        mark = marker()
        entries = [n for n in form if re.fullmatch(r"entry_\d+_response", n)]
        form["narrative"] = f"Process group on coping with cravings; members shared plans. {mark}"
        for name in entries:
            form[name] = f"Engaged; named one trigger and a coping step. {mark}"
        for name in [n for n in form if re.fullmatch(r"entry_\d+_participation", n)]:
            form[name] = form[name] or "Present for the whole session."
        form["action"] = "sign"
        with self.client.post(url, data=form, name="group note (sign)", catch_response=True) as r:
            if r.status_code != 200 or not r.url.endswith(url) or mark not in r.text:
                self.fail(r, f"the group note was not signed ({r.status_code})")
                return
        self.group_done.add(session["pk"])
        log_write(
            {
                "kind": "group_note",
                "marker": mark,
                "session": session["pk"],
                "entries": len(entries),
                "user": self.username,
            }
        )


class Participant(_Client):
    """A participant on their phone: the portal's home, the daily check-in, progress."""

    abstract = MODE != "pages"
    weight = 1
    wait_time = PORTAL_WAIT

    def on_start(self) -> None:
        n = next(_portal_seq)
        k = n % len(PLAN["portal_cookies"])
        account = PLAN["portal_logins"][k % len(PLAN["portal_logins"])]
        self.username, self.participant = account["username"], account["participant"]
        self.client.cookies.set(PLAN["cookie"], PLAN["portal_cookies"][k])

    @task(1)
    def sign_in_again(self) -> None:
        if RNG.random() < SIGN_IN_AGAIN:
            self.client.cookies.clear()
            self.sign_in("/my/sign-in/", self.username, "/my/")
        else:
            self.home()

    @task(3)
    def home(self) -> None:
        self.client.get("/my/", name="portal home")

    @task(1)
    def progress(self) -> None:
        self.client.get("/my/progress/", name="portal progress")

    @task(2)
    def check_in(self) -> None:
        page = self.client.get("/my/check-in/", name="portal check-in (page)")
        form = form_with(page.text, "sleep_hours")
        if form is None:
            self.fail(page, "no check-in form")
            return
        mark = marker()
        form.update(
            {
                "mood": str(RNG.randint(4, 9)),
                "craving": str(RNG.randint(0, 4)),
                "used": "no",
                "substances": "",
                "stress": str(RNG.randint(1, 6)),
                "sleep_hours": RNG.choice(["6", "6.5", "7", "7.5", "8"]),
                "note": f"Went to a meeting yesterday. {mark}",
            }
        )
        with self.client.post(
            "/my/check-in/", data=form, name="portal check-in (save)", catch_response=True
        ) as r:
            if (
                r.status_code != 200
                or not r.url.endswith("/my/")
                or "check-in is saved" not in r.text
            ):
                self.fail(r, f"the check-in was not saved ({r.status_code})")
                return
        log_write(
            {
                "kind": "checkin",
                "marker": mark,
                "participant": self.participant,
                "user": self.username,
            }
        )


class BareStaff(HttpUser):
    """The baseline: as many users, paced as the staff, each request to the bare view."""

    abstract = MODE != "bare"
    fixed_count = PLAN["staff_users"]
    wait_time = STAFF_WAIT

    @task
    def bare(self) -> None:
        self.client.get("/perf/bare", name="bare view")


class BareParticipant(HttpUser):
    abstract = MODE != "bare"
    weight = 1
    wait_time = PORTAL_WAIT

    @task
    def bare(self) -> None:
        self.client.get("/perf/bare", name="bare view")
