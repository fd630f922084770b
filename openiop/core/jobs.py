"""Jobs owned by core."""

from __future__ import annotations

import logging

from django.contrib.sessions.models import Session
from django.utils import timezone

from .worker import Daily, register_job

log = logging.getLogger(__name__)


@register_job("core.clear_expired_sessions", Daily(hour=3))
def clear_expired_sessions(period: str) -> str:
    """Remove expired login sessions from the database."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return f"{deleted} expired sessions removed"


class AuditChainBroken(Exception):
    """The nightly verification found the audit log altered: the run fails, and the jobs
    page shows it with the first broken link."""


@register_job("core.verify_audit_chain", Daily(hour=2, minute=30))
def verify_audit_chain(period: str) -> str:
    """Verify the audit log's hash chain (ONC 170.315(d)(2): detect an altered log)."""
    from . import audit

    report = audit.verify_log(actor=None)
    if not report.ok or not report.protected:
        log.error("audit chain verification: %s", report.summary)
        raise AuditChainBroken(report.summary)
    return report.message


# H2: automatic log-off keeps unsaved forms for a week (core.idle.PARK_DAYS).
@register_job("core.purge_parked_drafts", Daily(hour=3, minute=20))
def purge_parked_drafts(period: str) -> str:
    """Remove forms parked at an automatic sign-out more than 7 days ago."""
    from .idle import purge_old_drafts

    return f"{purge_old_drafts()} parked drafts removed"
