"""Screening URLs. Each area keeps its own block (and its own views module)."""

from django.urls import path

from . import clinical_views, import_views, lab_views, panel_views, selection_views

app_name = "screening"

urlpatterns: list = [
    # --- selection (selection_views) ---
    path("selection/", selection_views.log, name="selection_log"),
    path("selection/verify/", selection_views.verify, name="selection_verify"),
    # --- imports (import_views) ---
    path("import/", import_views.upload, name="import"),
    # --- lab (lab_views) ---
    path("today/", lab_views.today, name="today"),
    # --- clinical (clinical_views) ---
    path("reviews/", clinical_views.reviews, name="reviews"),
    path("policy/", clinical_views.policy, name="policy"),
    path("stats/", clinical_views.stats, name="stats"),
    # --- panels (panel_views) ---
    path("panels/", panel_views.panels, name="panels"),
    path("panels/<int:pk>/", panel_views.panel, name="panel"),
    path("analytes/", panel_views.analytes, name="analytes"),
]

# Under participants/<pk>/screening/
participant_patterns = (
    [
        # --- lab (lab_views) ---
        path("orders/", lab_views.orders, name="orders"),
        path("orders/new/", lab_views.order_new, name="order_new"),
        path("orders/<int:order_pk>/", lab_views.order, name="order"),
        # --- clinical (clinical_views) ---
        path("timeline/", clinical_views.timeline, name="timeline"),
        path("reviews/<int:review_pk>/", clinical_views.review, name="review"),
        path("medications/", clinical_views.medications, name="medications"),
        path("medications/<int:med_pk>/end/", clinical_views.medication_end, name="medication_end"),
    ],
    "participant_screening",
)
