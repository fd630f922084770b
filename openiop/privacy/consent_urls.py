"""A participant's consent registry, under participants/<pk>/consents/ (namespace
`consents`). The compliance-wide list is `privacy:consents` (privacy/urls.py)."""

from django.urls import path

from . import consent_views as views

participant_patterns = (
    [
        path("", views.consent_list, name="list"),
        path("new/", views.consent_new, name="new"),
        path("new/<slug:kind>/", views.consent_record, name="record"),
        path("form/<slug:kind>.pdf", views.blank_pdf, name="blank_pdf"),
        path("<int:consent_pk>/", views.consent_detail, name="detail"),
        path("<int:consent_pk>/consent.pdf", views.consent_pdf, name="pdf"),
        path("<int:consent_pk>/revoke/", views.consent_revoke, name="revoke"),
        path("<int:consent_pk>/void/", views.consent_void, name="void"),
    ],
    "consents",
)
