from django.urls import path

from . import views

# Under participants/<pk>/relapse-plan/ (mounted in openiop/urls.py).
participant_patterns = (
    [
        path("", views.current, name="current"),
        path("new/", views.new, name="new"),
        path("versions/", views.versions, name="versions"),
        path("<int:plan_pk>/", views.version, name="version"),
        path("<int:plan_pk>/edit/", views.edit, name="edit"),
        path("<int:plan_pk>/sign/", views.sign, name="sign"),
        path("<int:plan_pk>/participant-sign/", views.participant_sign, name="participant_sign"),
        path("<int:plan_pk>/pdf/", views.plan_pdf, name="pdf"),
    ],
    "relapse",
)
