from django.urls import path

from . import print_views, views

app_name = "notes_home"

urlpatterns = [
    path("unsigned/", views.unsigned, name="unsigned"),
    path("group/<int:session_pk>/", views.group, name="group"),
    path("group/<int:session_pk>/autosave/", views.group_autosave, name="group_autosave"),
]

# Under participants/<pk>/notes/
participant_patterns = (
    [
        path("new/", views.new, name="new"),
        path("<int:note_pk>/", views.detail, name="detail"),
        path("<int:note_pk>/edit/", views.edit, name="edit"),
        path("<int:note_pk>/autosave/", views.autosave, name="autosave"),
        path("<int:note_pk>/cosign/", views.cosign, name="cosign"),
        path("<int:note_pk>/pdf/", print_views.note_pdf, name="pdf"),
    ],
    "notes",
)
