from django.apps import AppConfig


class DischargeConfig(AppConfig):
    name = "openiop.discharge"
    label = "discharge"
    verbose_name = "Discharge and aftercare"
    default_auto_field = "django.db.models.BigAutoField"
