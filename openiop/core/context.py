"""Request context carried to service functions without passing the request around.

The middleware sets it for each request; commands and the worker set it with
`request_context(...)`. Audit events read it for the client address and request id.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    client_ip: str | None = None
    path: str = ""
    source: str = "web"  # web, worker, command, test


_current: ContextVar[RequestContext | None] = ContextVar("openiop_request_context", default=None)


def current() -> RequestContext | None:
    return _current.get()


# URL prefixes whose rest is a secret (a calendar feed's token): the audit log keeps only
# the prefix, so reading the log does not hand out working links.
_SECRET_PREFIXES: set[str] = set()


def register_secret_path(prefix: str) -> None:
    _SECRET_PREFIXES.add(prefix)


def loggable_path(path: str) -> str:
    for prefix in _SECRET_PREFIXES:
        if path.startswith(prefix):
            return prefix + "…"
    return path


@contextlib.contextmanager
def request_context(
    *, client_ip: str | None = None, path: str = "", source: str = "command"
) -> Iterator[RequestContext]:
    ctx = RequestContext(request_id=uuid.uuid4().hex, client_ip=client_ip, path=path, source=source)
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)
