from django.apps import AppConfig


class NotesConfig(AppConfig):
    name = "openiop.notes"
    label = "notes"
    verbose_name = "Progress notes: drafts, signing, addenda, co-signature"

    def ready(self) -> None:
        from . import board_panels, chart_sections  # noqa: F401  (registers them)
