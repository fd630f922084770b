"""The TEDS admission items of a participant's episode: `teds_items:edit`, mounted at
/participants/<int:pk>/teds/ in openiop/urls.py."""

from django.urls import path

from . import teds_views

app_name = "teds_items"

urlpatterns = [
    path("", teds_views.edit, name="edit"),
]
