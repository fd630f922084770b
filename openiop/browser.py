"""How OpenIOP drives a headless browser (browser tests, documentation screenshots).

Debian's Chromium, never a downloaded one; the flags keep it from reaching for the
network at start-up, which this project's machines do not allow.
"""

from __future__ import annotations

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
