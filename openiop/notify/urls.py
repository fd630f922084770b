from django.urls import path

from . import portal_views, views

app_name = "notify"

urlpatterns = [
    path("", views.outbox, name="outbox"),
    path("<int:pk>/", views.message_detail, name="message"),
]

# /my/notifications/: the participant's preferences (namespace portal_notify).
portal_patterns = (
    [path("", portal_views.preferences, name="preferences")],
    "portal_notify",
)
