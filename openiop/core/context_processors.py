"""Navigation: each item appears only for users who hold its permission."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from .roles import Perm

NAV = [
    ("Today", "core:today", None),
    ("Participants", "participants:list", Perm.PARTICIPANT_VIEW),
    ("Referrals", "intake:board", Perm.INTAKE_VIEW),
    ("Schedule", "scheduling:calendar", Perm.SCHEDULE_VIEW),
    ("Notes", "notes_home:unsigned", Perm.NOTE_WRITE),
    ("Measures due", "instruments:due", Perm.INSTRUMENT_GIVE),
    # One "Screening" item, leading to the page the user's work starts from: the lab's
    # today list, else the counsellor's reviews, else (compliance) the selection log.
    ("Screening", "screening:today", Perm.SCREENING_COLLECT),
    ("Screening", "screening:reviews", Perm.SCREENING_REVIEW),
    ("Screening", "screening:selection_log", Perm.SCREENING_VERIFY),
    ("Program set-up", "programs:home", Perm.PROGRAM_CONFIGURE),
    # Issue 9: the education families read in the family portal.
    ("Education", "education:list", Perm.EDUCATION_EDIT),
    ("Staff", "accounts:staff_list", Perm.USERS_MANAGE),
    # Issue 12: the FHIR API's clients and their credentials (set-up, beside Staff).
    ("API clients", "api_clients:list", Perm.API_CLIENTS_MANAGE),
    # H6: compliance's privacy work starts at the consent registry (privacy:consents).
    ("Privacy", "privacy:consents", Perm.CONSENT_VIEW),
    ("Audit log", "core:audit_log", Perm.AUDIT_VIEW),
    ("Jobs", "core:jobs", Perm.JOBS_VIEW),
    # Issue 9: reminders and notices sent by email and text message.
    ("Outbox", "notify:outbox", Perm.MESSAGES_VIEW),
    # Issue 10: alumni follow-ups and the outcomes dashboard.
    ("Alumni", "alumni:worklist", Perm.ALUMNI_FOLLOW_UP),
    ("Outcomes", "outcomes:dashboard", Perm.OUTCOMES_VIEW),
    # Issue 10: state reporting (TEDS) for compliance, who has no outcomes dashboard.
    ("State reporting", "teds:export", Perm.TEDS_EXPORT),
    # Issue 11: the billing board (authorisations running out, days at risk, claims).
    ("Billing", "billing:board", Perm.BILLING_VIEW),
]
# Items hidden from holders of a permission: clinicians (clinical.view) reach consents
# from each chart, so the compliance-wide "Privacy" item is not theirs (H6).
NAV_NOT_FOR = {"privacy:consents": Perm.CLINICAL_VIEW}


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    # Issue 13: a chart or the today board renders each section with the request, so this
    # runs once per section; the items are the same all through one request.
    cached = getattr(request, "_openiop_nav", None)
    if cached is None:
        cached = _nav_items(request, user)
        request._openiop_nav = cached  # type: ignore[attr-defined]
    return {"nav_items": cached}


def _nav_items(request: HttpRequest, user: Any) -> list[dict[str, Any]]:
    items = []
    labels: set[str] = set()
    for label, name, perm in NAV:
        if label in labels:
            continue  # an earlier item of the same label won
        if name in NAV_NOT_FOR and user.has_perm_code(NAV_NOT_FOR[name]):
            continue
        if perm is None or user.has_perm_code(perm):
            labels.add(label)
            url = reverse(name)
            section = url if url == "/" else "/" + url.strip("/").split("/")[0] + "/"
            active = request.path == url if url == "/" else request.path.startswith(section)
            items.append({"label": label, "url": url, "active": active})
    active_items = [item for item in items if item["active"]]
    if len(active_items) > 1:
        # Two items in one section (Outcomes at /outcomes/, State reporting at
        # /outcomes/teds/): the one whose address the page is under, else the first.
        under = [i for i in active_items if request.path.startswith(str(i["url"]))]
        keep = max(under or active_items[:1], key=lambda i: len(str(i["url"])))
        for item in active_items:
            item["active"] = item is keep
    return items


# Banners shown on every staff page above the content (e.g. open safety alerts). Apps
# register a function returning {"tone", "text", "url", "link_text"} or None; each must
# run at most one query.
BANNERS: list[Callable[[HttpRequest], dict[str, Any] | None]] = []


def register_banner(
    fn: Callable[[HttpRequest], dict[str, Any] | None],
) -> Callable[[HttpRequest], dict[str, Any] | None]:
    BANNERS.append(fn)
    return fn


def banners(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"banners": []}
    # One per request (sections and panels are rendered with the request too).
    lazy = getattr(request, "_openiop_banners", None)
    if lazy is None:
        lazy = _Lazy(request)
        request._openiop_banners = lazy  # type: ignore[attr-defined]
    return {"banners": lazy}


class _Lazy:
    """Evaluated only when the template loops over it (pages without the base layout,
    such as JSON answers, run no banner query)."""

    def __init__(self, request: HttpRequest):
        self.request = request
        self._items: list[dict[str, Any]] | None = None

    def __iter__(self) -> Any:
        if self._items is None:
            self._items = [b for fn in BANNERS if (b := fn(self.request))]
        return iter(self._items)


# --- H2: automatic log-off (issue 8, point 5) --------------------------------------------


def idle(request: HttpRequest) -> dict[str, Any]:
    """The idle script's settings for base.html, and the page's parked draft if any.

    No query on an ordinary page: the timeout and the pages with a parked draft are in
    the session since sign-in; a page that has one runs one query, when it is drawn.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"idle": _Idle(request)}


class _Idle:
    def __init__(self, request: HttpRequest):
        self.request = request
        self._loaded = False
        self._parked: dict[str, Any] | None = None

    @property
    def timeout(self) -> int:
        from . import idle

        return idle.timeout_seconds(self.request)

    @property
    def remaining(self) -> int:
        from . import idle

        return max(0, int(idle.remaining(self.request)))

    @property
    def parked(self) -> dict[str, Any] | None:
        if not self._loaded:
            from . import idle

            self._parked = idle.parked_for(self.request)
            self._loaded = True
        return self._parked
