"""TEDS state reporting: `teds:export` (/outcomes/teds/, the page) and `teds:download`
(/outcomes/teds/<kind>.csv, kind admissions or discharges). Mounted in openiop/urls.py
before the outcomes pages."""

from django.urls import path

from . import teds_views

app_name = "teds"

urlpatterns = [
    path("", teds_views.export, name="export"),
    path("<str:kind>.csv", teds_views.download, name="download"),
]
