"""Amendment requests of one participant, under participants/<pk>/amendments/ (namespace
`amendments`). The compliance worklist is `privacy:amendments` (privacy/urls.py)."""

from django.urls import path

from . import amendment_views as views

participant_patterns = (
    [
        path("", views.request_list, name="list"),
        path("new/", views.new, name="new"),
        path("<int:request_pk>/", views.detail, name="detail"),
        path("<int:request_pk>/accept/", views.accept, name="accept"),
        path("<int:request_pk>/deny/", views.deny, name="deny"),
        path("<int:request_pk>/disagreement/", views.disagreement, name="disagreement"),
        path("<int:request_pk>/void/", views.void, name="void"),
    ],
    "amendments",
)
