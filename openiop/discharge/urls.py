from django.urls import path

from . import views

# Under participants/<int:pk>/discharge/ (mounted in openiop/urls.py).
app_name = "discharge"

urlpatterns = [
    path("", views.discharge, name="discharge"),
    path("summary/", views.summary_page, name="summary"),
    path("summary/sign/", views.sign, name="sign"),
    path("summary/addendum/", views.addendum, name="addendum"),
    path("summary/pdf/", views.summary_pdf, name="summary_pdf"),
]
