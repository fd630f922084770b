"""Small template helpers, available in every template (settings: TEMPLATES builtins)."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def split(value: str) -> list[str]:
    """ "a b c"|split → ["a", "b", "c"], to loop over field names in a template."""
    return str(value).split()


@register.filter
def field(form: Any, name: str) -> Any:
    """form|field:"name" → the bound field of that name."""
    return form[name]


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """mapping|get_item:key → mapping[key], or None."""
    try:
        return mapping[key]
    except (KeyError, IndexError, TypeError):
        return None
