from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "openiop.intake"
    label = "intake"
    verbose_name = "Intake: referrals, screening, assessment and admission"

    def ready(self) -> None:
        from openiop.participants.choices import EpisodeStatus
        from openiop.participants.steps import register_guided

        # Registers the today-board panels and the chart sections (issue 10: TEDS items).
        from . import board_panels, chart_sections, teds_sections  # noqa: F401

        # Assessed needs a signed ASAM assessment; Admitted needs the admission form.
        register_guided(EpisodeStatus.ASSESSED, "intake:assessment_new", "Assess (ASAM)")
        register_guided(EpisodeStatus.ADMITTED, "intake:admit", "Admit")
