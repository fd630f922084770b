#!/usr/bin/env python
"""Developer shortcut; the installed `openiop` command does the same."""

from openiop.cli import main

if __name__ == "__main__":
    main()
