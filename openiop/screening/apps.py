from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "openiop.screening"
    label = "screening"
    verbose_name = "Drug screening"

    def ready(self) -> None:
        # Register the daily random-selection job with the worker, the chart's "Drug
        # screens" section and the board's "Screens to review" panel.
        from . import clinical_panels, jobs  # noqa: F401
