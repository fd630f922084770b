from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "openiop.plans"
    label = "plans"
    verbose_name = "Treatment plans: problems, goals, objectives, interventions, reviews"

    def ready(self) -> None:
        from . import board_panels, chart_sections  # noqa: F401  (registers them)
