from django.urls import path

from . import views

app_name = "notes_home"

urlpatterns = [path("unsigned/", views.unsigned, name="unsigned")]

# Under participants/<pk>/notes/
participant_patterns = (
    [
        path("new/", views.new, name="new"),
        path("<int:note_pk>/", views.detail, name="detail"),
        path("<int:note_pk>/edit/", views.edit, name="edit"),
        path("<int:note_pk>/autosave/", views.autosave, name="autosave"),
        path("<int:note_pk>/cosign/", views.cosign, name="cosign"),
    ],
    "notes",
)
