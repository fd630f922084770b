"""The Spanish portal has no untranslated strings (issue 9, acceptance 6).

Every string the code marks for translation — `{% translate %}` / `{% blocktranslate %}`
in templates (read through Django's own `templatize`, which is what `makemessages`
feeds to xgettext) and gettext calls in Python — must have a Spanish entry in
`openiop/locale/es/LC_MESSAGES/django.po` that is translated, not fuzzy, keeps its
placeholders, and is compiled into the `.mo` file Django reads (`make messages`
refreshes both).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import polib
import pytest
from django.utils import translation
from django.utils.translation.template import templatize

ROOT = Path(__file__).resolve().parents[1]  # the openiop package
PO = ROOT / "locale" / "es" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
SKIP_DIRS = {"tests", "browser_tests", "migrations", "locale", "__pycache__"}
PY_FUNCS = {
    "gettext": (None, 0),
    "gettext_lazy": (None, 0),
    "_": (None, 0),
    "ngettext": (None, 0),
    "ngettext_lazy": (None, 0),
    "pgettext": (0, 1),
    "pgettext_lazy": (0, 1),
    "npgettext": (0, 1),
    "npgettext_lazy": (0, 1),
}
CALL = re.compile(r"\b(npgettext|ngettext|pgettext|gettext)\(")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{\w*\}")


def _files(suffixes: tuple[str, ...]):
    for path in sorted(ROOT.rglob("*")):
        if path.suffix in suffixes and not (SKIP_DIRS & set(path.relative_to(ROOT).parts)):
            yield path


def _python_calls(source: str, *, templated: bool = False):
    """(context, msgid, where) of each literal gettext-family call in Python source."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name not in PY_FUNCS:
            continue
        ctx_at, id_at = PY_FUNCS[name]
        args = node.args
        if len(args) <= id_at or not isinstance(args[id_at], ast.Constant):
            continue
        msgid = args[id_at].value
        context = args[ctx_at].value if ctx_at is not None else None
        if isinstance(msgid, str):
            yield context, msgid


def _template_calls(path: Path):
    code = templatize(path.read_text(encoding="utf-8"), origin=str(path))
    for match in CALL.finditer(code):
        # Each call ends at the first ") " after which the text parses as one call.
        start = match.start()
        end = code.find(")", match.end())
        while end != -1:
            try:
                call = ast.parse(code[start : end + 1].replace(",count)", ", count)"))
            except SyntaxError:
                end = code.find(")", end + 1)
                continue
            yield from _python_calls(ast.unparse(call))
            break


def marked_strings() -> dict[tuple[str | None, str], str]:
    found: dict[tuple[str | None, str], str] = {}
    for path in _files((".html", ".txt")):
        if "templates" not in path.parts:
            continue
        for context, msgid in _template_calls(path):
            found.setdefault((context, msgid), str(path.relative_to(ROOT)))
    for path in _files((".py",)):
        source = path.read_text(encoding="utf-8")
        if "gettext" not in source:
            continue
        for context, msgid in _python_calls(source):
            found.setdefault((context, msgid), str(path.relative_to(ROOT)))
    return found


def _translated(entry) -> bool:
    if entry.msgid_plural:
        return bool(entry.msgstr_plural) and all(entry.msgstr_plural.values())
    return bool(entry.msgstr)


@pytest.fixture(scope="module")
def catalogue():
    assert PO.exists(), f"{PO} is missing: run `make messages`"
    return polib.pofile(str(PO))


def test_the_extractor_finds_strings_of_templates_and_python():
    strings = marked_strings()
    assert (None, "Sign in") in strings  # portal/login.html
    assert any(where.endswith(".py") for where in strings.values())


def test_every_marked_string_has_a_spanish_translation(catalogue):
    entries = {(e.msgctxt, e.msgid): e for e in catalogue if not e.obsolete}
    missing = []
    for key, where in sorted(marked_strings().items(), key=lambda kv: kv[1]):
        entry = entries.get(key)
        if entry is None:
            missing.append(f"{where}: not in the catalogue: {key[1]!r}")
        elif entry.fuzzy:
            missing.append(f"{where}: fuzzy: {key[1]!r}")
        elif not _translated(entry):
            missing.append(f"{where}: untranslated: {key[1]!r}")
    assert not missing, f"{len(missing)} strings:\n" + "\n".join(missing[:60])


def test_translations_keep_their_placeholders(catalogue):
    wrong = []
    for entry in catalogue:
        if entry.obsolete or not entry.translated():
            continue
        wanted = sorted(PLACEHOLDER.findall(entry.msgid))
        targets = [entry.msgstr] if entry.msgstr else list(entry.msgstr_plural.values())
        for target in targets:
            if sorted(PLACEHOLDER.findall(target)) != wanted:
                wrong.append(f"{entry.msgid!r} → {target!r}")
    assert not wrong, "\n".join(wrong)


def test_the_compiled_catalogue_matches_the_po_file(catalogue):
    assert MO.exists(), f"{MO} is missing: run `make messages`"
    compiled = {
        (e.msgctxt, e.msgid): (e.msgstr, dict(e.msgstr_plural)) for e in polib.mofile(str(MO))
    }
    source = {
        (e.msgctxt, e.msgid): (e.msgstr, {int(k): v for k, v in e.msgstr_plural.items()})
        for e in catalogue
        if e.translated() and not e.obsolete
    }
    stale = [k[1] for k, v in source.items() if compiled.get(k, (None, None))[0] != v[0]]
    assert not stale, f"the .mo file is older than the .po file (`make messages`): {stale[:10]}"


def test_django_serves_the_spanish_catalogue(db):
    with translation.override("es"):
        assert translation.gettext("Sign in") != "Sign in"
