"""URL patterns of the API clients' pages (issue 12), under /setup/api-clients/."""

from __future__ import annotations

from django.urls import path

from . import admin_views as views

app_name = "api_clients"

urlpatterns = [
    path("", views.client_list, name="list"),
    path("new/", views.client_new, name="new"),
    path("<int:pk>/", views.client_detail, name="detail"),
    path("<int:pk>/credentials/", views.credentials, name="credentials"),
    path("<int:pk>/new-secret/", views.new_secret, name="new_secret"),
    path("<int:pk>/retire/", views.retire, name="retire"),
    path("<int:pk>/tokens/revoke/", views.revoke_all, name="revoke_all"),
    path("<int:pk>/tokens/<int:token_pk>/revoke/", views.revoke_token, name="revoke_token"),
]
