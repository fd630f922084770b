from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "openiop.billing"
    label = "billing"
    verbose_name = "Billing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import board_panels, chart_sections  # noqa: F401
