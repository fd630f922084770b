"""Validated clinical instruments: definitions, scoring and reliable change.

Import-light on purpose (no Django models), so `from openiop.instruments import score`
works in any script:

    >>> from openiop.instruments import score
    >>> score("phq9", [1, 1, 1, 1, 1, 0, 0, 0, 0]).band.label
    'Mild depression'
"""

from .definitions import (
    Band,
    Instrument,
    Item,
    Licence,
    Option,
    Reliability,
    UnknownInstrument,
    all_definitions,
    get,
)
from .rci import Change, reliable_change
from .scoring import Flag, ScoreResult, score

__all__ = [
    "Band",
    "Change",
    "Flag",
    "Instrument",
    "Item",
    "Licence",
    "Option",
    "Reliability",
    "ScoreResult",
    "UnknownInstrument",
    "all_definitions",
    "get",
    "reliable_change",
    "score",
]
