"""URLs of the family area, mounted in `openiop/urls.py`:

* `schedule/sessions/<pk>/family/` — a family session's family page (staff, `family`);
* `participants/<pk>/family/` — a participant's family page (staff, `participant_family`);
* `education/` — education articles (staff, `education`);
* `family/` — the family portal (`family_portal`).
"""

from django.urls import path

from . import education_views, portal_views, views

session_patterns = (
    [
        path("", views.session_family, name="session"),
        path(
            "invitations/<int:invitation_pk>/withdraw/",
            views.cancel_invitation,
            name="cancel_invitation",
        ),
    ],
    "family",
)

participant_patterns = (
    [
        path("", views.participant_family, name="overview"),
        path(
            "contacts/<int:contact_pk>/portal-invitation/",
            views.portal_invite,
            name="portal_invite",
        ),
    ],
    "participant_family",
)

education_patterns = (
    [
        path("", education_views.article_list, name="list"),
        path("new/", education_views.article_new, name="new"),
        path("<int:pk>/edit/", education_views.article_edit, name="edit"),
        path("<int:pk>/state/", education_views.article_state, name="state"),
    ],
    "education",
)

portal_patterns = (
    [
        path("", portal_views.home, name="home"),
        path("learn/", portal_views.education, name="education"),
        path("support/", portal_views.support, name="support"),
        path("learn/<int:pk>/", portal_views.article, name="article"),
        path("settings/", portal_views.settings, name="settings"),
    ],
    "family_portal",
)
