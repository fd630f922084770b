from django.apps import AppConfig


class ParticipantsConfig(AppConfig):
    name = "openiop.participants"
    label = "participants"
    verbose_name = "Participants and episodes of care"

    def ready(self) -> None:
        from . import board_panels, chart_sections  # noqa: F401  (registers panels and sections)
