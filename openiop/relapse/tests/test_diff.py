"""The version diff: a pure function on plain data (no database)."""

from __future__ import annotations

from openiop.relapse.diff import PlanContent, SupportEntry, diff_plans, diff_section


def content(support=(), **sections) -> PlanContent:
    return PlanContent(sections={k: tuple(v) for k, v in sections.items()}, support=tuple(support))


def test_the_first_version_has_everything_added():
    new = content(triggers=["Payday"], coping=["Walk"], support=[SupportEntry(1, "Dana", "Call")])
    diff = diff_plans(None, new)
    assert diff.first_version and diff.changed
    by_key = {s.key: s for s in diff.sections}
    assert by_key["triggers"].added == ("Payday",)
    assert by_key["coping"].added == ("Walk",)
    assert by_key["warning_signs"].added == () and not by_key["warning_signs"].changed
    assert diff.support.added == (SupportEntry(1, "Dana", "Call"),)


def test_items_added_and_removed_per_section_in_their_order():
    old = content(triggers=["Payday", "Arguments", "The old crew"], coping=["Walk"])
    new = content(triggers=["Arguments", "Being alone", "Payday", "Boredom"], coping=["Walk"])
    diff = diff_plans(old, new)
    triggers = next(s for s in diff.sections if s.key == "triggers")
    assert triggers.added == ("Being alone", "Boredom")
    assert triggers.removed == ("The old crew",)
    assert triggers.kept == ("Arguments", "Payday")
    # Order does not matter for triggers: no "reordered" flag.
    assert not triggers.reordered
    assert [s.key for s in diff.changed_sections] == ["triggers"]


def test_an_edited_item_is_one_removed_and_one_added():
    change = diff_section("coping", ["Call my sponsor"], ["Call my sponsor Jo"])
    assert change.removed == ("Call my sponsor",) and change.added == ("Call my sponsor Jo",)


def test_steps_in_a_new_order_are_a_change():
    old = content(craving_steps=["Wait 15 minutes", "Call Dana", "Go to a meeting"])
    new = content(craving_steps=["Call Dana", "Wait 15 minutes", "Go to a meeting"])
    diff = diff_plans(old, new)
    steps = next(s for s in diff.sections if s.key == "craving_steps")
    assert steps.reordered and steps.changed and not steps.added and not steps.removed
    assert diff.changed


def test_repeated_items_are_counted():
    change = diff_section("triggers", ["A", "A", "B"], ["A", "B", "B"])
    assert change.added == ("B",) and change.removed == ("A",)


def test_support_people_added_removed_and_role_changed():
    dana, jo, sam = (
        SupportEntry(1, "Dana", "Call"),
        SupportEntry(2, "Jo", "Drive"),
        SupportEntry(3, "Sam", ""),
    )
    diff = diff_plans(
        content(support=[dana, jo]),
        content(support=[SupportEntry(1, "Dana", "Call any time"), sam]),
    )
    assert diff.support.added == (sam,)
    assert diff.support.removed == (jo,)
    assert diff.support.role_changed == ((dana, SupportEntry(1, "Dana", "Call any time")),)
    assert diff.changed


def test_no_change():
    same = content(triggers=["Payday"], support=[SupportEntry(1, "Dana", "Call")])
    diff = diff_plans(same, same)
    assert not diff.changed and not diff.first_version
    assert diff.changed_sections == ()
