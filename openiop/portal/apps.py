from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "openiop.portal"
    label = "portal"
    verbose_name = "Participant and family portal"

    def ready(self) -> None:
        from . import chart_sections  # noqa: F401  (registers the chart's Portal section)
