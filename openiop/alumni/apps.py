from django.apps import AppConfig


class AlumniConfig(AppConfig):
    name = "openiop.alumni"
    label = "alumni"
    verbose_name = "Alumni follow-up"
    default_auto_field = "django.db.models.BigAutoField"
