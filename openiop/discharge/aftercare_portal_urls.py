"""The participant's aftercare plan in the portal, /my/aftercare/ (namespace
"portal_aftercare")."""

from django.urls import path

from . import aftercare_views as views

app_name = "portal_aftercare"

urlpatterns = [
    path("", views.portal_plan, name="plan"),
]
