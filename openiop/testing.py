"""Test personas and a small world to test against, shared by every app's tests.

    world = build_world()
    world.counsellor, world.lab, world.outsider, world.norole ...
    world.referred (a participant whose episode is Referred), world.active, ...

Two programs: the personas work in `world.program`; `world.outsider` works only in
`world.other_program`, whose participant `world.foreign` they alone may see.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from openiop.accounts.models import RoleAssignment, User
from openiop.core.roles import Role
from openiop.participants import services
from openiop.participants.choices import EpisodeStatus as S
from openiop.participants.models import Participant
from openiop.programs.choices import LevelOfCare
from openiop.programs.models import Program, Room, SessionType, Site, Topic, Track

PASSWORD = "correct-horse-battery"  # noqa: S105


def make_user(username: str, roles: list[str], programs: list[Program], **extra: Any) -> User:
    user = User.objects.create_user(
        username=username,
        password=PASSWORD,
        first_name=username.title(),
        last_name="Tester",
        **extra,
    )
    RoleAssignment.objects.bulk_create([RoleAssignment(user=user, role=r) for r in roles])
    user.programs.set(programs)
    return user


def make_program(name: str, site: Site | None = None) -> Program:
    site = site or Site.objects.create(name=f"{name} site")
    program = Program.objects.create(
        site=site, name=name, time_zone="America/New_York", level_of_care=LevelOfCare.E3_2_1
    )
    Track.objects.create(
        program=program, name="Morning", days=[0, 1, 3], start_time=dt.time(9), end_time=dt.time(12)
    )
    Track.objects.create(
        program=program,
        name="Evening",
        days=[0, 2, 3],
        start_time=dt.time(18),
        end_time=dt.time(21),
    )
    Room.objects.create(site=site, name="Group Room", capacity=12)
    SessionType.objects.create(program=program, name="Process group", category="group_therapy")
    Topic.objects.create(program=program, title="Understanding addiction", sequence=1)
    return program


def make_participant(
    program: Program,
    actor: User,
    *,
    last: str,
    first: str = "Pat",
    status: str = S.REFERRED,
    counsellor: User | None = None,
    days_ago: int = 30,
) -> Participant:
    today = program.today()
    referral = today - dt.timedelta(days=days_ago)
    participant = services.register_participant(
        actor=actor,
        program=program,
        identity={
            "legal_first_name": first,
            "legal_last_name": last,
            "date_of_birth": dt.date(1990, 5, 17),
            "phone": "(207) 555-0101",
        },
        referral_source="self",
        referral_date=referral,
    )
    path: list[str] = [S.SCREENING, S.ASSESSED, S.ADMITTED, S.ACTIVE, S.DISCHARGED, S.ALUMNI]
    episode = participant.current_episode
    if episode is None:
        raise RuntimeError("register_participant opens a referral episode")
    if status in (S.NOT_ADMITTED, S.REFERRED_ELSEWHERE):
        services.transition_episode(
            episode,
            status,
            actor=actor,
            effective_date=referral,
            reason="Test reason",
        )
    elif status != S.REFERRED:
        track = program.tracks.first()
        for to in path[: path.index(status) + 1]:
            changes = None
            if to == S.ADMITTED:
                changes = {
                    "level_of_care": LevelOfCare.E3_2_1,
                    "track": track,
                    "primary_counsellor": counsellor or actor,
                }
            episode = services.transition_episode(
                episode,
                to,
                actor=actor,
                effective_date=referral + dt.timedelta(days=path.index(to)),
                reason="Test reason" if to == S.DISCHARGED else "",
                changes=changes,
            )
    participant.refresh_from_db()
    return participant


@dataclass
class World:
    program: Program
    other_program: Program
    users: dict[str, User] = field(default_factory=dict)
    participants: dict[str, Participant] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        if name in self.users:
            return self.users[name]
        if name in self.participants:
            return self.participants[name]
        raise AttributeError(name)


def build_world() -> World:
    program = make_program("Harbor IOP")
    other = make_program("Other IOP")
    world = World(program=program, other_program=other)
    for role in Role.values:
        world.users[role] = make_user(role, [role], [] if role == Role.ADMIN else [program])
    world.users["norole"] = make_user("norole", [], [program])
    world.users["outsider"] = make_user("outsider", [Role.DIRECTOR, Role.COUNSELLOR], [other])
    counsellor = world.users[Role.COUNSELLOR]
    intake = world.users[Role.INTAKE]
    world.participants["referred"] = make_participant(program, intake, last="Referred")
    world.participants["active"] = make_participant(
        program, intake, last="Active", status=S.ACTIVE, counsellor=counsellor
    )
    world.participants["foreign"] = make_participant(
        other, world.users["outsider"], last="Foreign", status=S.ACTIVE
    )
    return world


def now() -> dt.datetime:
    return timezone.now()
