from django.urls import path

from . import views

app_name = "programs"

urlpatterns = [
    path("", views.setup_home, name="home"),
    path("programs/<int:pk>/", views.program_detail, name="program"),
    path("<str:kind_name>/new/", views.create, name="create"),
    path("<str:kind_name>/new/in/<int:parent_pk>/", views.create, name="create_in"),
    path("<str:kind_name>/<int:pk>/edit/", views.edit, name="edit"),
]
