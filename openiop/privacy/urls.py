"""`privacy:` pages not about one participant (compliance worklists), and
`participant_privacy:` pages about one participant (release, accounting, emergency
access). Helpers' blocks are marked; add new URLs inside a block."""

from django.urls import path

from . import amendment_views, consent_views, emergency_views, release_views

app_name = "privacy"

urlpatterns = [
    # --- lead: emergency access and disclosures ---
    path("emergency/", emergency_views.review_list, name="emergency_list"),
    path("emergency/<int:access_pk>/", emergency_views.review, name="emergency_review"),
    path("disclosures/", release_views.disclosure_register, name="disclosures"),
    # --- H6 consents ---
    path("consents/", consent_views.compliance_list, name="consents"),
    # --- H5 amendments ---
    path("amendments/", amendment_views.worklist, name="amendments"),
]

participant_patterns = (
    [
        path("release/", release_views.release, name="release"),
        path("release/<int:disclosure_pk>/", release_views.disclosure, name="disclosure"),
        path(
            "release/<int:disclosure_pk>/document.pdf",
            release_views.disclosure_pdf,
            name="disclosure_pdf",
        ),
        path("accounting/", release_views.accounting, name="accounting"),
        path("accounting.pdf", release_views.accounting_pdf, name="accounting_pdf"),
        path("emergency-access/", emergency_views.break_glass, name="break_glass"),
    ],
    "participant_privacy",
)
