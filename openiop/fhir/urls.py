from django.urls import path, re_path

from . import api, export_views, views

app_name = "fhir"

urlpatterns = [
    path("metadata", views.metadata, name="metadata"),
    path("auth/token", views.token, name="token"),
    # Bulk Data $export (helper H4): before the generic type patterns.
    path("$export", export_views.export, name="export"),
    path("Patient/$export", export_views.patient_export, name="patient_export"),
    path("$export-status/<str:export_id>", export_views.export_status, name="export_status"),
    path("$export-file/<str:export_id>/<str:name>", export_views.export_file, name="export_file"),
    path("<str:resource_type>", api.search_view, name="search"),
    path("<str:resource_type>/<str:fhir_id>", api.read_view, name="read"),
    # Anything else under /fhir/R4/ (an empty id, a deeper path): a FHIR 404, not a page.
    re_path(r"^.*$", api.no_such_endpoint, name="not_found"),
]
