from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    name = "openiop.core"
    label = "core"
    verbose_name = "OpenIOP core"

    def ready(self) -> None:
        # Register the jobs this app owns with the worker; start the idle clock (H2).
        from . import (
            idle,  # noqa: F401  (starts the idle clock at sign-in; H2)
            jobs,  # noqa: F401  (import registers jobs)
        )

        post_migrate.connect(_protect_audit_log, sender=self)


def _protect_audit_log(sender, *, using, apps=None, **kwargs):
    """Keep the database's refusal to change audit events in place after every migrate.

    Migration 0004 installs it; a later migration that rebuilds the audit table on SQLite
    (adding a column does) drops the table's triggers with it. Idempotent.
    """
    from django.apps import apps as global_apps
    from django.db import connections

    from .chain import install_triggers

    apps = apps or global_apps  # flush sends no migration state
    try:
        model = apps.get_model("core", "AuditEvent")
        apps.get_model("core", "AuditChainHead")
    except LookupError:
        return  # migrated back before the chain existed
    if any(f.name == "hash" for f in model._meta.get_fields()):
        install_triggers(connections[using])
