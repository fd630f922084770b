"""Attendance letters: `letters:` (the staff worklist, /letters/), `participant_letters:`
(one participant's requests and letters, /participants/<pk>/letters/) and `portal_letters:`
(the participant's own, /my/letters/). The public verification page is `verify_letter`
(/verify/, in openiop/urls.py)."""

from django.urls import path

from . import portal_views, views

app_name = "letters"

urlpatterns = [
    path("", views.worklist, name="worklist"),
]

participant_patterns = (
    [
        path("new/", views.new, name="new"),
        path("<int:request_pk>/", views.detail, name="detail"),
        path("<int:request_pk>/produce/", views.produce, name="produce"),
        path("<int:request_pk>/decline/", views.decline, name="decline"),
    ],
    "participant_letters",
)

portal_patterns = (
    [
        path("", portal_views.letter_list, name="list"),
        path("new/", portal_views.letter_new, name="new"),
        path("<int:request_pk>/", portal_views.letter_detail, name="detail"),
        path("<int:request_pk>/letter.pdf", portal_views.letter_pdf, name="pdf"),
    ],
    "portal_letters",
)
