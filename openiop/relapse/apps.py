from django.apps import AppConfig


class RelapseConfig(AppConfig):
    name = "openiop.relapse"
    label = "relapse"
    verbose_name = "Relapse-prevention plans"

    def ready(self) -> None:
        from . import chart_sections  # noqa: F401  (registers the chart section)
