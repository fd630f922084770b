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


class JobStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    GAVE_UP = "gave_up", "Failed, no more retries"
