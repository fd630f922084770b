"""Create a staff account with roles from the command line (e.g. the first administrator)."""

from __future__ import annotations

import getpass

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from openiop.accounts.models import User
from openiop.accounts.services import save_staff_user
from openiop.core.context import request_context
from openiop.core.roles import Role


class Command(BaseCommand):
    help = "Create a staff account with roles, e.g. `openiop addstaff alex --role admin`."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", action="append", choices=Role.values, required=True)
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument("--email", default="")

    def handle(self, *args, username, role, first_name, last_name, email, **options):
        if User.objects.filter(username=username).exists():
            raise CommandError(f"A staff account named {username!r} already exists.")
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password (again): "):
            raise CommandError("The passwords do not match.")
        user = User(username=username, first_name=first_name, last_name=last_name, email=email)
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        with request_context(source="command"):
            save_staff_user(user, actor=None, roles=role, programs=[], password=password)
        self.stdout.write(f"Created {username} with roles: {', '.join(role)}.")
