from django.urls import path

from . import views

app_name = "outcomes"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("definitions/", views.definitions, name="definitions"),
    path("csv/<slug:figure>/", views.figure_csv, name="csv"),
]
