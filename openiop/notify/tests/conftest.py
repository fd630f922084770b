from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _empty_sms_outbox():
    from openiop.notify import sms

    sms.outbox.clear()
    yield
    sms.outbox.clear()
