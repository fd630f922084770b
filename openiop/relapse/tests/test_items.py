"""Validation of a plan's item lists and of a drawn signature. The parser gets any text a
browser (or an attacker) can send; it answers a list or the service's own error."""

from __future__ import annotations

import base64
import struct
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openiop.relapse.services import (
    MAX_ITEM_CHARS,
    MAX_ITEMS,
    RelapseError,
    clean_items,
    clean_signature_image,
    parse_items,
)


def png(width: int = 2, height: int = 1) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    raw = b"".join(b"\x00" + b"\xff" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def data_url(data: bytes, kind: str = "image/png") -> str:
    return f"data:{kind};base64," + base64.b64encode(data).decode()


def test_one_item_per_line_with_bullets_and_numbers_dropped():
    text = (
        "  Payday Fridays \r\n\n- Arguments at home\n• The old   crew\n2) Being alone\n"
        "12 step meeting\n1. - Boredom\n-Sundays"
    )
    assert parse_items(text) == [
        "Payday Fridays",
        "Arguments at home",
        "The old crew",
        "Being alone",
        "12 step meeting",
        "Boredom",
        "-Sundays",
    ]


def test_repeats_and_blank_lines_are_dropped():
    assert parse_items("Walk\n\n   \nWalk\nRun\n") == ["Walk", "Run"]
    assert parse_items("") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ok\nbad\x00", "NUL"),
        ("x" * (MAX_ITEM_CHARS + 1), f"at most {MAX_ITEM_CHARS} characters"),
        ("\n".join(f"item {i}" for i in range(MAX_ITEMS + 1)), f"at most {MAX_ITEMS} items"),
        (None, "text was expected"),
        (["a list"], "text was expected"),
        ("x\n" * 100_000, "too long"),
    ],
)
def test_refusals_name_the_section(text, message):
    with pytest.raises(RelapseError, match=message) as exc:
        parse_items(text, "Triggers")
    assert str(exc.value).startswith("Triggers")


def test_the_limits_themselves_are_accepted():
    items = [f"{i:02d}" + "x" * (MAX_ITEM_CHARS - 2) for i in range(MAX_ITEMS)]
    assert parse_items("\n".join(items)) == items


@pytest.mark.parametrize(
    "value", ["not a list", [1, 2], ["ok", None], ["a\ud800b"], [b"bytes"], {"a": 1}]
)
def test_clean_items_refuses_what_is_not_a_list_of_text(value):
    with pytest.raises(RelapseError):
        clean_items(value)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(),
        st.text(alphabet=st.sampled_from(["\n", "\r", " ", "-", "•", "1", ".", ")", "x", "\x00"])),
        st.lists(st.text(max_size=600), max_size=50).map("\n".join),
        st.none(),
        st.integers(),
        st.lists(st.text()),
    )
)
def test_the_parser_never_raises_anything_but_its_own_error(text):
    try:
        items = parse_items(text, "Coping strategies")
    except RelapseError:
        return
    assert isinstance(items, list) and len(items) <= MAX_ITEMS
    for item in items:
        assert isinstance(item, str) and item == item.strip() and item
        assert len(item) <= MAX_ITEM_CHARS and "\x00" not in item
        assert "\n" not in item
    assert len(set(items)) == len(items)
    # What was saved parses back to itself (the editor shows it one item per line).
    assert parse_items("\n".join(items)) == items


def test_a_drawn_signature_png_is_accepted():
    url = data_url(png())
    assert clean_signature_image(url) == url
    assert clean_signature_image("") == ""


@pytest.mark.parametrize(
    "value",
    [
        data_url(png(), "image/jpeg"),
        data_url(b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml"),
        data_url(b"GIF89a not a png"),
        data_url(png(5000, 1)),
        "data:image/png;base64,@@@",
        "data:image/png;base64," + "A" * 250_000,
        "https://example.org/signature.png",
        ["a list"],
    ],
    ids=["jpeg", "svg", "not a png", "too wide", "not base64", "too long", "a url", "a list"],
)
def test_anything_else_is_refused(value):
    with pytest.raises(RelapseError, match="signature"):
        clean_signature_image(value)
