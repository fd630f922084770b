from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "openiop.privacy"
    label = "privacy"
    verbose_name = "Privacy (42 CFR Part 2)"

    def ready(self) -> None:
        from . import board_panels, chart_sections  # noqa: F401  (register panels, sections)
