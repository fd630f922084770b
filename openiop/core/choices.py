from django.db import models


class AuditAction(models.TextChoices):
    VIEW = "view", "Viewed"
    CREATE = "create", "Created"
    CHANGE = "change", "Changed"
    EXPORT = "export", "Exported"
    TRANSITION = "transition", "Status changed"
    VOID = "void", "Voided"
    SIGN = "sign", "Signed"
    LOGIN = "login", "Logged in"
    LOGOUT = "logout", "Logged out"
    LOGIN_FAILED = "login_failed", "Failed login"
    DENIED = "denied", "Access refused"
    # Privacy and security (issue 8).
    DISCLOSE = "disclose", "Disclosed"
    DISCLOSURE_REFUSED = "disclose_refused", "Disclosure refused"
    REVOKE = "revoke", "Revoked"
    EMERGENCY_ACCESS = "emergency", "Emergency access"
    AMEND = "amend", "Amendment"
    MFA = "mfa", "Two-factor set-up"
    MFA_FAILED = "mfa_failed", "Failed second factor"
    LOCKED_OUT = "locked_out", "Account locked"
    UNLOCK = "unlock", "Account unlocked"
    TIMED_OUT = "timed_out", "Signed out after inactivity"


class JobStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    GAVE_UP = "gave_up", "Failed, no more retries"
