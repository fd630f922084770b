from django.apps import AppConfig


class InstrumentsConfig(AppConfig):
    name = "openiop.instruments"
    label = "instruments"
    verbose_name = "Instruments and measurement-based care"

    def ready(self) -> None:
        from . import board_panels, chart_sections  # noqa: F401  (registers panels and sections)
