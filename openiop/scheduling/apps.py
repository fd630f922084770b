from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "openiop.scheduling"
    label = "scheduling"
    verbose_name = "Scheduling: sessions, appointments, enrolment, calendar"

    def ready(self) -> None:
        from openiop.core.context import register_secret_path
        from openiop.participants.hooks import on_episode_change

        from . import chart_sections  # noqa: F401  (registers the chart section)
        from .enrolment import sync_enrolment

        on_episode_change(sync_enrolment)
        # A feed URL's token is its password: the audit log keeps "/ical/…" only.
        register_secret_path("/ical/")
