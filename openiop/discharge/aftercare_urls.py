"""The aftercare plan, under /participants/<pk>/aftercare/ (namespace "aftercare")."""

from django.urls import path

from . import aftercare_views as views

app_name = "aftercare"

urlpatterns = [
    path("", views.plan, name="plan"),
    path("edit/", views.edit, name="edit"),
    path("referrals/new/", views.referral_new, name="referral_new"),
    path("referrals/<int:referral_pk>/", views.referral_edit, name="referral_edit"),
    path("referrals/<int:referral_pk>/remove/", views.referral_void, name="referral_void"),
    path("give/", views.give, name="give"),
    path("plan.pdf", views.pdf, name="pdf"),
]
