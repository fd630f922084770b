"""Alumni follow-ups and events, mounted at /alumni/."""

from django.urls import path

from . import views

app_name = "alumni"

urlpatterns = [
    path("", views.worklist, name="worklist"),
    path("follow-ups/<int:pk>/", views.follow_up, name="follow_up"),
    path("follow-ups/<int:pk>/attempt/", views.attempt, name="attempt"),
    path("follow-ups/<int:pk>/close/", views.close, name="close"),
    path("events/", views.events, name="events"),
    path("events/new/", views.event_new, name="event_new"),
    path("events/<int:pk>/", views.event, name="event"),
    path("events/<int:pk>/attendance/", views.event_attendance, name="event_attendance"),
    path("events/<int:pk>/cancel/", views.event_cancel, name="event_cancel"),
]
