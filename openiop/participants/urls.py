from django.urls import path

from . import views

app_name = "participants"

urlpatterns = [
    path("", views.participant_list, name="list"),
    path("new/", views.participant_new, name="new"),
    path("<int:pk>/", views.chart, name="chart"),
    path("<int:pk>/edit/", views.participant_edit, name="edit"),
    path("<int:pk>/void/", views.participant_void, name="void"),
    path("<int:pk>/episodes/new/", views.episode_new, name="episode_new"),
    path("<int:pk>/episodes/<int:episode_pk>/edit/", views.episode_edit, name="episode_edit"),
    path(
        "<int:pk>/episodes/<int:episode_pk>/to/<str:to_status>/",
        views.episode_transition,
        name="episode_transition",
    ),
]
