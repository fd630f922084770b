from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "openiop.notify"
    label = "notify"
    verbose_name = "Notifications (email and text messages)"

    def ready(self) -> None:
        # Register the delivery and message-making jobs with the worker, and the chart's
        # "Messages" section.
        from . import chart_sections, jobs  # noqa: F401
