"""What changed from one version of a plan to the next: plain functions on plain data,
no database (tested without one).

    diff_plans(content_of(previous), content_of(plan))

Items are compared as written (they were stripped when saved). An item whose text was
edited shows as one removed and one added, which is what a reader needs to see.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .choices import ORDERED_SECTIONS, SECTION_KEYS, SECTION_LABELS


@dataclass(frozen=True)
class SupportEntry:
    contact_id: int
    name: str
    role: str = ""


@dataclass(frozen=True)
class PlanContent:
    """A plan's sections (key → items in order) and its support people in order."""

    sections: dict[str, tuple[str, ...]] = field(default_factory=dict)
    support: tuple[SupportEntry, ...] = ()

    def items(self, key: str) -> tuple[str, ...]:
        return tuple(self.sections.get(key, ()))


@dataclass(frozen=True)
class SectionChange:
    key: str
    label: str
    added: tuple[str, ...]
    removed: tuple[str, ...]
    kept: tuple[str, ...]
    reordered: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.reordered)


@dataclass(frozen=True)
class SupportChange:
    added: tuple[SupportEntry, ...] = ()
    removed: tuple[SupportEntry, ...] = ()
    # (before, after) for a person still on the plan whose role changed.
    role_changed: tuple[tuple[SupportEntry, SupportEntry], ...] = ()
    kept: tuple[SupportEntry, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.role_changed)


@dataclass(frozen=True)
class PlanDiff:
    sections: tuple[SectionChange, ...]
    support: SupportChange
    first_version: bool = False

    @property
    def changed(self) -> bool:
        return self.support.changed or any(s.changed for s in self.sections)

    @property
    def changed_sections(self) -> tuple[SectionChange, ...]:
        return tuple(s for s in self.sections if s.changed)


def _minus(items: Sequence[str], other: Iterable[str]) -> tuple[str, ...]:
    """`items` without one occurrence of each of `other`, in the order of `items`."""
    left = Counter(other)
    out = []
    for item in items:
        if left[item] > 0:
            left[item] -= 1
        else:
            out.append(item)
    return tuple(out)


def diff_section(key: str, old: Sequence[str], new: Sequence[str]) -> SectionChange:
    added = _minus(new, old)
    removed = _minus(old, new)
    kept_new = _minus(new, added)
    kept_old = _minus(old, removed)
    reordered = key in ORDERED_SECTIONS and kept_new != kept_old
    return SectionChange(
        key=key,
        label=SECTION_LABELS.get(key, key),
        added=added,
        removed=removed,
        kept=kept_new,
        reordered=reordered,
    )


def diff_support(old: Sequence[SupportEntry], new: Sequence[SupportEntry]) -> SupportChange:
    before = {s.contact_id: s for s in old}
    after = {s.contact_id: s for s in new}
    return SupportChange(
        added=tuple(s for s in new if s.contact_id not in before),
        removed=tuple(s for s in old if s.contact_id not in after),
        role_changed=tuple(
            (before[s.contact_id], s)
            for s in new
            if s.contact_id in before and before[s.contact_id].role != s.role
        ),
        kept=tuple(s for s in new if s.contact_id in before),
    )


def diff_plans(old: PlanContent | None, new: PlanContent) -> PlanDiff:
    """The changes from `old` to `new`; with no `old` (version 1) everything is added."""
    base = old or PlanContent()
    return PlanDiff(
        sections=tuple(diff_section(k, base.items(k), new.items(k)) for k in SECTION_KEYS),
        support=diff_support(base.support, new.support),
        first_version=old is None,
    )
