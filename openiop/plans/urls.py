from django.urls import path

from . import views

app_name = "plans_home"

urlpatterns = [
    path("reviews/", views.reviews, name="reviews"),
]

# Under participants/<pk>/plan/
participant_patterns = (
    [
        path("", views.current, name="current"),
        path("start/", views.start, name="start"),
        path("versions/", views.versions, name="versions"),
        path("<int:plan_pk>/", views.version, name="version"),
        path("<int:plan_pk>/edit/", views.edit, name="edit"),
        path("<int:plan_pk>/problem/", views.problem, name="problem"),
        path("<int:plan_pk>/goal/", views.goal, name="goal"),
        path("<int:plan_pk>/objective/", views.objective, name="objective"),
        path("<int:plan_pk>/intervention/", views.intervention, name="intervention"),
        path("<int:plan_pk>/sign/", views.sign, name="sign"),
        path("<int:plan_pk>/tablet/", views.participant_sign, name="participant_sign"),
        path("<int:plan_pk>/tablet/done/", views.signed, name="signed"),
        path("<int:plan_pk>/supervise/", views.supervisor_sign, name="supervisor_sign"),
        path("<int:plan_pk>/pdf/", views.plan_pdf, name="pdf"),
    ],
    "plans",
)
