"""Staff pages of the portal, under participants/<pk>/portal/ (namespace
participant_portal)."""

from django.urls import path

from . import staff_views

app_name = "participant_portal"

urlpatterns = [
    path("invite/", staff_views.invite, name="invite"),
    path("invitations/<int:invitation_pk>/", staff_views.invitation, name="invitation"),
    path("invitations/<int:invitation_pk>/withdraw/", staff_views.revoke, name="revoke"),
    path("accounts/<int:account_pk>/end/", staff_views.end, name="end"),
]
