"""Other areas react to episode changes without participants importing them.

    on_episode_change(sync_enrolment)   # scheduling: the track roster follows the episode

Each hook runs inside the transaction that changed the episode, after the change is
saved, with the program day it takes effect; a hook that raises rolls the change back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

EpisodeHook = Callable[[Any, Any, dt.date], None]  # (episode, actor, effective_date)

_HOOKS: list[EpisodeHook] = []


def on_episode_change(hook: EpisodeHook) -> EpisodeHook:
    if hook not in _HOOKS:
        _HOOKS.append(hook)
    return hook


def episode_changed(episode: Any, *, actor: Any, effective_date: dt.date) -> None:
    for hook in _HOOKS:
        hook(episode, actor, effective_date)
