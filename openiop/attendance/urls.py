from django.urls import path

from . import views

app_name = "attendance"

urlpatterns = [
    path("sessions/<int:pk>/", views.session, name="session"),
    path("alerts/<int:pk>/", views.alert, name="alert"),
]

# Under participants/<pk>/check-ins/
participant_patterns = (
    [path("new/", views.check_in_new, name="new")],
    "check_ins",
)
