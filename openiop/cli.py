"""The `openiop` console script: Django's management commands under one name.

openiop demo            load the synthetic demo program (refuses a real database)
openiop serve           serve on 127.0.0.1:8000 (PORT= to change)
openiop worker [--once] run periodic jobs
openiop migrate, openiop check, openiop createsuperuser, ... any manage.py command
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openiop.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else argv)
    args[0] = "openiop"
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
