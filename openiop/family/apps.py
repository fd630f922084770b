from django.apps import AppConfig


class FamilyConfig(AppConfig):
    name = "openiop.family"
    label = "family"
    verbose_name = "Family involvement and the family portal"

    def ready(self) -> None:
        from . import chart_sections  # noqa: F401  (registers the chart section)
