from django.urls import path

from . import views

app_name = "scheduling"

urlpatterns = [
    path("", views.calendar, name="calendar"),
    path("sessions/new/", views.session_new, name="session_new"),
    path("sessions/<int:pk>/edit/", views.session_edit, name="session_edit"),
    path("sessions/<int:pk>/cancel/", views.session_cancel, name="session_cancel"),
    path("sessions/<int:pk>/topic/", views.session_topic, name="session_topic"),
    path("sessions/<int:pk>/book/", views.session_book, name="session_book"),
    path("tracks/<int:pk>/template/", views.template, name="template"),
    path("tracks/<int:pk>/template/<int:slot_pk>/retire/", views.retire_slot, name="retire_slot"),
    path("tracks/<int:pk>/generate/", views.generate, name="generate"),
    path("tracks/<int:pk>/curriculum/", views.curriculum, name="curriculum"),
    path("programs/<int:pk>/closures/", views.closures, name="closures"),
    path("closures/<int:pk>/remove/", views.remove_closure, name="remove_closure"),
    path("feed/", views.my_feed, name="my_feed"),
]

# Under participants/<pk>/schedule/
participant_patterns = (
    [
        path("feed/", views.participant_feed, name="participant_feed"),
        path("topics/<int:topic_pk>/assign/", views.assign_topic, name="assign_topic"),
        path(
            "assignments/<int:assignment_pk>/done/",
            views.complete_assignment,
            name="complete_assignment",
        ),
    ],
    "schedule",
)
