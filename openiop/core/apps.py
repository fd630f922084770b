from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "openiop.core"
    label = "core"
    verbose_name = "OpenIOP core"

    def ready(self) -> None:
        # Register the jobs this app owns with the worker.
        from . import jobs  # noqa: F401  (import registers jobs)
