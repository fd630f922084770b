"""Resource providers, one module per type; importing registers them."""

from . import (
    audit,  # noqa: F401
    consents,  # noqa: F401
    encounters,  # noqa: F401
    episodes,  # noqa: F401
    observations,  # noqa: F401
    patient,  # noqa: F401
    plans,  # noqa: F401
    questionnaires,  # noqa: F401
)
