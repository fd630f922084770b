from django.apps import AppConfig


class DischargeConfig(AppConfig):
    name = "openiop.discharge"
    label = "discharge"
    verbose_name = "Discharge and aftercare"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from openiop.core.roles import Perm
        from openiop.participants.choices import EpisodeStatus
        from openiop.participants.steps import register_guided

        from . import (  # noqa: F401  (registers panel and section)
            aftercare_sections,
            board_panels,
            chart_sections,
        )

        # Discharge is recorded with its own form (reason, TEDS items, summary).
        register_guided(
            EpisodeStatus.DISCHARGED,
            "discharge:discharge",
            "Discharge…",
            by_participant=True,
            perm=Perm.DISCHARGE_WRITE,
        )
