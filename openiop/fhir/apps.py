from django.apps import AppConfig


class FhirConfig(AppConfig):
    name = "openiop.fhir"
    label = "fhir"
    verbose_name = "FHIR API"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import jobs, resources  # noqa: F401  (registers the resource providers)
