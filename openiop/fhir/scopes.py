"""SMART-style scopes (SMART App Launch v1 `.read`, and v2 `.r`/`.s`/`.rs`).

    patient/Observation.read   one participant's Observations (the client's patient context)
    system/*.read              every resource of the client's program

`user/` scopes need a signed-in user, which a backend client has not: they are refused
when a token is asked for. Only reading is offered (the API is read-only).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SCOPE = re.compile(r"^(patient|system|user)/(\*|[A-Z][A-Za-z]+)\.(read|write|\*|[cruds]+)$")


class ScopeError(ValueError):
    pass


@dataclass(frozen=True)
class Scope:
    context: str  # patient | system
    resource_type: str  # a type or "*"
    read: bool
    search: bool
    text: str = ""  # as granted (system/Observation.rs)

    def covers(self, resource_type: str, *, search: bool = False) -> bool:
        if self.resource_type not in ("*", resource_type):
            return False
        return self.search if search else self.read

    def __str__(self) -> str:
        return self.text or f"{self.context}/{self.resource_type}.read"


def parse(text: str, *, known_types: frozenset[str] | set[str]) -> Scope:
    m = _SCOPE.match(text)
    if not m:
        raise ScopeError(f"“{text}” is not a scope of the form system/Observation.read")
    context, rtype, access = m.groups()
    if context == "user":
        raise ScopeError(f"“{text}”: user/ scopes need a signed-in user; ask for system/ scopes")
    if rtype != "*" and rtype not in known_types:
        raise ScopeError(f"“{text}”: this server has no resource type {rtype}")
    if access in ("read", "*"):
        read = search = True
    elif access == "write":
        raise ScopeError(f"“{text}”: the API is read-only")
    else:
        if set(access) - {"r", "s"}:
            raise ScopeError(f"“{text}”: the API is read-only (only r and s)")
        read, search = "r" in access, "s" in access
    return Scope(context, rtype, read, search, text)


def parse_all(text: str, *, known_types: frozenset[str] | set[str]) -> list[Scope]:
    return [parse(s, known_types=known_types) for s in text.split()]


def grantable(
    requested: str, allowed: str, *, known_types: frozenset[str] | set[str], has_patient: bool
) -> list[str]:
    """The scopes a token may carry: each requested scope must be one the client is
    allowed (or narrower than one: `system/Observation.read` under `system/*.read`).
    An empty request means every allowed scope. Raises ScopeError with the reason."""
    allowed_scopes = parse_all(allowed, known_types=known_types)
    wanted = requested.split() or allowed.split()
    granted: list[str] = []
    for text in wanted:
        scope = parse(text, known_types=known_types)
        if scope.context == "patient" and not has_patient:
            raise ScopeError(
                f"“{text}”: patient/ scopes need a patient context, and this client has none"
            )
        ok = any(
            a.context == scope.context
            and a.resource_type in ("*", scope.resource_type)
            and (a.read or not scope.read)
            and (a.search or not scope.search)
            for a in allowed_scopes
        )
        if not ok:
            raise ScopeError(f"“{text}” is not among the scopes this client may ask for")
        if text not in granted:
            granted.append(text)
    return granted
