"""Lab results imported from a file: a laboratory's CSV, or HL7 v2 ORU^R01 messages
(issue 7, point 6; acceptance 3 and 6).

Policy: **all or nothing per file.** Everything is parsed and checked first; if any line is
malformed or cannot be matched, nothing is recorded and the report lists every problem with
its line (CSV) or segment (HL7) number. Otherwise every result is recorded through
`services.record_results` (per specimen and method) inside one transaction, so the
interpretation, the "resulted" custody step, the audit trail and any review are exactly
those of results entered by hand. `preview` is the same check without recording (dry run).

Matching
--------
* **Specimen**: `Collection.specimen_id`, the barcode on the bottle label that the program
  wrote when it collected the specimen (DOMAIN.md §5.5). It is the placer's identifier,
  so in HL7 it is read from SPM-2.1 (placer-assigned specimen id), else OBR-2 (placer order
  number), else ORC-2. OBR-3 (filler order number) is the laboratory's own accession: it is
  stored as the result's accession, never used to find the specimen. Ids match exactly
  (case and all). Only specimens of participants the importing user can see are found; any
  other id is "unknown", so a file cannot reveal or touch another program's records.
* **Analyte**: `Analyte.code`, ignoring case, spaces, hyphens and underscores; then the
  analyte's name, its LOINC code, and `ANALYTE_ALIASES` (codes labs commonly use). In HL7
  the OBX-3 identifier is tried first, then its alternate identifier, then their texts.
* **Outcome**: the lab's flag (HL7 OBX-8 abnormal flag; CSV `outcome`/`result` column:
  POS/NEG/A/N/H/…, see `_FLAGS`), else a result word in the value (Positive, Not detected…),
  else the value against the cut-off: at or above is positive (DOMAIN.md §5.2). The cut-off
  is the file's (CSV `cutoff` column, or an HL7 OBX-7 reference range written "<N"), else
  the panel's for that analyte (its definitive cut-off for a definitive result).
* **Method**: lab results are definitive by default; a CSV `method` column may say
  presumptive. In HL7, an OBX-17 observation method naming a screen or an immunoassay
  makes the result presumptive (DOMAIN.md §5.3).
* **Times**: HL7 TS (YYYY[MM[DD[HH[MM[SS[.S…]]]]]][+/-ZZZZ]) or ISO 8601 in a CSV; a time
  without a zone is on the program's clock. The result time is OBR-22, else OBX-19, else
  MSH-7 (HL7), or the CSV `resulted_at` column; if none is given, the time of the import.

Files are UTF-8 text (ASCII included) up to `MAX_BYTES` and `MAX_LINES`; anything else
(binary, another encoding, empty, no header, no MSH, not ORU^R01) is refused with a
message, never an exception.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import hl7
from django.db import models, transaction
from django.utils import dateparse, timezone

from openiop.core import audit
from openiop.core.choices import AuditAction
from openiop.participants.access import visible_participants

from . import services
from .choices import Interpretation, ResultMethod, ResultOutcome, ResultSource
from .models import Analyte, Collection, ExpectedMedication, PanelAnalyte, Result

MAX_BYTES = 2_000_000
MAX_LINES = 10_000
CSV = "csv"
HL7 = "hl7"
AUTO = "auto"
FORMATS = (CSV, HL7)
# Result.value holds 12 digits with 3 decimals; a cut-off 10 with 3.
MAX_VALUE = Decimal("999999999.999")
MAX_CUTOFF = Decimal("9999999.999")
THOUSANDTH = Decimal("0.001")

# Codes labs commonly use for the seeded analytes (normalised: upper case, no spaces,
# hyphens or underscores). Add a lab's own codes here or as the analyte's LOINC code.
ANALYTE_ALIASES = {
    "BZE": "COC",  # benzoylecgonine, the cocaine metabolite
    "BENZOYLECGONINE": "COC",
    "COCAINE": "COC",
    "THCA": "THC",
    "THCCOOH": "THC",  # Δ9-THC carboxylic acid
    "CARBOXYTHC": "THC",
    "CANNABINOIDS": "THC",
    "6MAM": "6AM",  # 6-monoacetylmorphine (heroin)
    "6ACETYLMORPHINE": "6AM",
    "BENZ": "BZO",
    "BZD": "BZO",
    "BENZODIAZEPINES": "BZO",
    "OXYC": "OXY",
    "FENT": "FEN",
    "FTY": "FEN",
    "NORFENT": "NORFEN",
    "ETHYLGLUCURONIDE": "ETG",
    "ETHYLSULFATE": "ETS",
    "MAMP": "MET",  # methamphetamine
    "MDMA": "MDMA",
    "OPIATES": "OPI",
    "ALC": "ETOH",
    "ALCOHOL": "ETOH",
}

# Flags and result words → outcome. HL7 table 0078 abnormal flags (A, AA, H, HH, >, N, L,
# LL, <) plus the words labs write. Low flags mean "below the limit": negative.
_POSITIVE = {"POS", "POSITIVE", "P", "A", "AA", "H", "HH", ">", "DET", "DETECTED", "PRESENT"}
_NEGATIVE = {
    "NEG",
    "NEGATIVE",
    "N",
    "L",
    "LL",
    "<",
    "ND",
    "NOTDETECTED",
    "NONEDETECTED",
    "ABSENT",
    "NDET",
}
_INCONCLUSIVE = {
    "INC",
    "INCONCLUSIVE",
    "IND",
    "INDETERMINATE",
    "INV",
    "INVALID",
    "EQUIVOCAL",
    "QNS",
    "?",
}
_FLAGS = {
    **dict.fromkeys(_POSITIVE, ResultOutcome.POSITIVE),
    **dict.fromkeys(_NEGATIVE, ResultOutcome.NEGATIVE),
    **dict.fromkeys(_INCONCLUSIVE, ResultOutcome.INCONCLUSIVE),
}
_METHODS = {
    "DEFINITIVE": ResultMethod.DEFINITIVE,
    "CONFIRM": ResultMethod.DEFINITIVE,
    "CONFIRMATION": ResultMethod.DEFINITIVE,
    "CONFIRMATORY": ResultMethod.DEFINITIVE,
    "D": ResultMethod.DEFINITIVE,
    "PRESUMPTIVE": ResultMethod.PRESUMPTIVE,
    "SCREEN": ResultMethod.PRESUMPTIVE,
    "P": ResultMethod.PRESUMPTIVE,
}
_PRESUMPTIVE_HL7_METHODS = ("SCREEN", "IMMUNOASSAY", "EIA")
# HL7 OBX-11 result status: D (deleted) and W (wrong) withdraw a result; I means none yet;
# X "cannot be obtained" is recorded as inconclusive.
_WITHDRAWN_STATUS = {"D", "W"}
_PENDING_STATUS = {"I"}
_NOT_OBTAINED_STATUS = {"X"}

# CSV column names (normalised) → field.
_CSV_COLUMNS = {
    "specimen_id": "specimen_id",
    "specimen": "specimen_id",
    "specimenid": "specimen_id",
    "analyte": "analyte",
    "analyte_code": "analyte",
    "test": "analyte",
    "outcome": "outcome",
    "result": "outcome",
    "flag": "outcome",
    "value": "value",
    "concentration": "value",
    "unit": "unit",
    "units": "unit",
    "cutoff": "cutoff",
    "cut_off": "cutoff",
    "method": "method",
    "accession": "accession",
    "lab_accession": "accession",
    "resulted_at": "resulted_at",
    "result_date": "resulted_at",
}
_CONTROL = re.compile(r"[\x00-\x08\x0c\x0e-\x1b\x1d-\x1f\x7f]")
_NEWLINE = re.compile(r"\r\n|\r|\n")
_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{2}")
_NUMBER = re.compile(r"\d{1,12}(?:\.\d{0,6})?|\.\d{1,6}")
_HL7_TS = re.compile(
    r"(\d{4}(?:\d{2}(?:\d{2}(?:\d{2}(?:\d{2}(?:\d{2}(?:\.\d{1,4})?)?)?)?)?)?)([+-]\d{4})?"
)


class Problem(models.TextChoices):
    """Why a line of the file cannot be recorded."""

    MALFORMED = "malformed", "Malformed line or segment"
    WRONG_TYPE = "wrong_type", "Not an ORU^R01 message"
    UNKNOWN_SPECIMEN = "unknown_specimen", "Unknown specimen id"
    UNKNOWN_ANALYTE = "unknown_analyte", "Unknown analyte"
    BAD_VALUE = "bad_value", "Bad value"
    DUPLICATE = "duplicate", "Given twice in the file"
    ALREADY_RECORDED = "recorded", "Results already recorded"
    VOIDED = "voided", "Specimen voided"


# Problems that come from the records' state, not from the file (409 rather than 400).
STATE_PROBLEMS = frozenset({Problem.ALREADY_RECORDED, Problem.VOIDED})


class ImportFileError(ValueError):
    """The file as a whole cannot be read; the message says why."""


@dataclass(frozen=True)
class Issue:
    where: str  # "line 4", "segment 7 (OBX)"
    reason: str  # a Problem
    detail: str

    @property
    def reason_label(self) -> str:
        return Problem(self.reason).label


@dataclass
class Line:
    """One result read from the file, not yet matched to the database."""

    where: str
    specimen_id: str
    codes: tuple[str, ...]  # identifiers of the analyte to try, in order
    label: str  # how the file names the analyte
    method: str
    outcome: str = ""  # "" → the value against the cut-off
    value: Decimal | None = None
    below: bool = False  # the value was written "<N": below the reporting limit
    unit: str = ""
    cutoff: Decimal | None = None
    accession: str = ""
    resulted_at: dt.datetime | None = None  # naive: on the program's clock


@dataclass
class Planned:
    """A matched result: what would be (or was) recorded."""

    where: str
    analyte: Analyte
    method: str
    outcome: str
    value: Decimal | None
    unit: str
    cutoff: Decimal | None
    interpretation: str
    explained_by: ExpectedMedication | None = None

    def entry(self) -> services.ResultInput:
        return services.ResultInput(
            analyte=self.analyte,
            method=self.method,
            outcome=self.outcome,
            value=self.value,
            unit=self.unit,
            cutoff=self.cutoff,
        )

    @property
    def interpretation_label(self) -> str:
        return Interpretation(self.interpretation).label


@dataclass
class SpecimenPlan:
    """A specimen's results of one method, recorded by one `record_results` call."""

    collection: Collection
    method: str
    accession: str = ""
    resulted_at: dt.datetime | None = None
    results: list[Planned] = field(default_factory=list)

    @property
    def method_label(self) -> str:
        return ResultMethod(self.method).label

    @property
    def unexpected(self) -> list[str]:
        return [
            p.analyte.code for p in self.results if p.interpretation == Interpretation.UNEXPECTED
        ]


@dataclass
class ImportReport:
    format: str
    error: str = ""  # the file as a whole could not be read
    lines: list[Line] = field(default_factory=list)
    line_count: int = 0  # result lines read (CSV rows, OBX segments)
    problems: list[Issue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was read but is not a result
    specimens: list[SpecimenPlan] = field(default_factory=list)
    matched: bool = False
    dry_run: bool = True
    recorded: bool = False

    @property
    def source(self) -> str:
        return ResultSource.HL7 if self.format == HL7 else ResultSource.CSV

    @property
    def format_label(self) -> str:
        return ResultSource(self.source).label

    @property
    def ok(self) -> bool:
        """Everything in the file can be recorded."""
        return not self.error and not self.problems and self.matched and bool(self.specimens)

    @property
    def result_count(self) -> int:
        return sum(len(s.results) for s in self.specimens)

    @property
    def refused_by_state(self) -> bool:
        """Every problem is the records' state (already recorded, voided), not the file."""
        return bool(self.problems) and all(p.reason in STATE_PROBLEMS for p in self.problems)

    def problem(self, where: str, reason: str, detail: str) -> None:
        self.problems.append(Issue(where, reason, detail))

    def sort_problems(self) -> None:
        """In the order of the file (problems are found in several passes)."""

        def position(issue: Issue) -> int:
            found = re.search(r"\d+", issue.where)
            return int(found.group()) if found else 0

        self.problems.sort(key=position)


# --- reading the file ---------------------------------------------------------------------


def decode(data: bytes) -> str:
    """The text of an uploaded file, or ImportFileError saying why it cannot be read."""
    if len(data) > MAX_BYTES:
        raise ImportFileError(f"The file is larger than {MAX_BYTES // 1_000_000} MB.")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFileError("The file is UTF-16 text; save it as UTF-8 and upload it again.")
    if b"\x00" in data:
        raise ImportFileError("This is a binary file, not a CSV or HL7 text file.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            f"The file is not UTF-8 text (byte {exc.start + 1} cannot be read). "
            "Save or export it as UTF-8 (or plain ASCII) and upload it again."
        ) from None
    return check_text(text)


def check_text(text: str) -> str:
    """The text ready to parse (without a byte-order mark), or ImportFileError."""
    if len(text) > MAX_BYTES:
        raise ImportFileError(f"The file is larger than {MAX_BYTES // 1_000_000} MB.")
    text = text.removeprefix("\ufeff")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ImportFileError("The file is not valid text.") from None
    bad = _CONTROL.search(text)
    if bad is not None:
        if bad.group() == "\x00":
            raise ImportFileError("This is a binary file, not a CSV or HL7 text file.")
        line = text.count("\n", 0, bad.start()) + 1
        raise ImportFileError(
            f"The file holds a control character on line {line}; is it a text file?"
        )
    if not text.strip():
        raise ImportFileError("The file is empty.")
    lines = len(_NEWLINE.findall(text.strip())) + 1
    if lines > MAX_LINES:
        raise ImportFileError(
            f"The file has {lines:,} lines; split it into files of at most {MAX_LINES:,}."
        )
    return text


def detect_format(text: str) -> str:
    """HL7 if the text starts with a message, file or batch header; CSV otherwise."""
    head = text.removeprefix("\ufeff").lstrip(" \t\r\n\x0b")[:3]
    return HL7 if head in ("MSH", "FHS", "BHS") else CSV


def parse(text: str, fmt: str = AUTO) -> ImportReport:
    """Read the file (no database): its result lines and the problems of the file itself."""
    if fmt == AUTO:
        fmt = detect_format(text)
    if fmt == HL7:
        return parse_hl7(text)
    if fmt == CSV:
        return parse_csv(text)
    return ImportReport(format=CSV, error="Choose CSV or HL7.")


def _norm(code: str) -> str:
    return re.sub(r"[\s_\-]+", "", code).upper()


def _number(raw: str, what: str) -> tuple[Decimal | None, bool]:
    """A non-negative number, possibly written "<N" (below the limit) or ">N"."""
    text = raw.strip()
    below = False
    for sign in ("<=", ">=", "<", ">"):
        if text.startswith(sign):
            below = sign.startswith("<")
            text = text[len(sign) :].strip()
            break
    if not text:
        if below:
            return None, True
        raise ValueError(f"{what} “{raw[:40]}” is not a number.")
    if not _NUMBER.fullmatch(text):
        if text.startswith("-") and _NUMBER.fullmatch(text[1:]):
            raise ValueError(f"{what} “{raw[:40]}” is negative.")
        raise ValueError(f"{what} “{raw[:40]}” is not a number.")
    try:
        value = Decimal(text).quantize(THOUSANDTH, rounding=ROUND_HALF_UP)
    except InvalidOperation:  # pragma: no cover  (the pattern keeps it in range)
        raise ValueError(f"{what} “{raw[:40]}” is not a number.") from None
    return value, below


def _outcome_word(raw: str) -> str | None:
    """The outcome a flag or result word names; None for a number or a blank; "" for a
    word that names none."""
    word = _norm(raw)
    if not word:
        return None
    if word in _FLAGS:
        return _FLAGS[word]
    if word[0].isdigit() or word[0] in "<>.":
        return None
    return ""


def _check_time(value: dt.datetime) -> dt.datetime:
    if not 2000 <= value.year <= 2100:
        raise ValueError("The result time is not between 2000 and 2100.")
    return value


def parse_hl7_ts(raw: str) -> dt.datetime | None:
    """An HL7 TS/DTM value as a datetime (naive when it has no zone); None when blank.

    The date and time are read by `hl7.parse_datetime`; the zone is read here, because the
    library gets the sign of "-00MM" offsets wrong."""
    raw = raw.strip()
    if not raw:
        return None
    match = _HL7_TS.fullmatch(raw)
    if match is None:
        raise ValueError(f"“{raw[:30]}” is not an HL7 date and time.")
    value = hl7.parse_datetime(match.group(1))
    zone = match.group(2)
    if zone:
        hours, minutes = int(zone[1:3]), int(zone[3:5])
        if hours > 14 or minutes > 59:
            raise ValueError(f"“{raw[:30]}” has an impossible time zone.")
        offset = dt.timedelta(hours=hours, minutes=minutes)
        value = value.replace(tzinfo=dt.timezone(-offset if zone[0] == "-" else offset))
    return _check_time(value)


def _csv_time(raw: str) -> dt.datetime | None:
    raw = raw.strip()
    if not raw:
        return None
    parsed = dateparse.parse_datetime(raw)
    if parsed is None:
        day = dateparse.parse_date(raw)
        if day is not None:
            parsed = dt.datetime.combine(day, dt.time())
    if parsed is None:
        return parse_hl7_ts(raw)
    return _check_time(parsed)


# --- CSV ------------------------------------------------------------------------------------


def parse_csv(text: str) -> ImportReport:
    """A lab's CSV: a header row naming at least `specimen_id` and `analyte`, and
    `outcome` (or `result`) and/or `value`; optional `unit`, `cutoff`, `method`,
    `accession`, `resulted_at`. Comma, semicolon or tab separated."""
    report = ImportReport(format=CSV)
    try:
        text = check_text(text)
    except ImportFileError as exc:
        report.error = str(exc)
        return report
    if detect_format(text) == HL7:
        report.error = "This is an HL7 message, not a CSV file: choose HL7 (or detect)."
        return report
    first = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header: list[str] | None = None
        columns: list[str | None] = []
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            where = f"line {reader.line_num}"
            if header is None:
                header = row
                columns = _csv_header(row, report)
                if report.error:
                    return report
                continue
            report.line_count += 1
            _csv_row(row, columns, where, report)
    except csv.Error as exc:
        report.problem(f"line {reader.line_num}", Problem.MALFORMED, f"Not valid CSV: {exc}.")
    if header is None and not report.problems:
        report.error = "The file has no header row."
    elif not report.line_count and not report.problems:
        report.error = "The file has a header but no results."
    return report


def _csv_header(row: list[str], report: ImportReport) -> list[str | None]:
    columns: list[str | None] = []
    ignored = []
    for cell in row:
        name = re.sub(r"[\s\-]+", "_", cell.strip().lower())
        column = _CSV_COLUMNS.get(name)
        if column is None:
            ignored.append(cell.strip()[:40])
        elif column in columns:
            report.error = f"The column “{column}” is given twice in the header."
            return columns
        columns.append(column)
    missing = [c for c in ("specimen_id", "analyte") if c not in columns]
    if missing:
        report.error = (
            f"The header row lacks the column(s) {', '.join(missing)}. The first line must "
            "name the columns: specimen_id, analyte, outcome and/or value "
            "(optional: unit, cutoff, method, accession, resulted_at)."
        )
    elif "outcome" not in columns and "value" not in columns:
        report.error = (
            "The header row needs an outcome (or result) column, a value column, or both."
        )
    if ignored and not report.error:
        shown = ", ".join(f"“{c}”" for c in ignored[:10])
        report.notes.append(f"Columns not read: {shown}.")
    return columns


def _csv_row(row: list[str], columns: list[str | None], where: str, report: ImportReport) -> None:
    if len(row) != len(columns):
        report.problem(
            where,
            Problem.MALFORMED,
            f"{len(row)} fields where the header has {len(columns)}.",
        )
        return
    cells = {c: v.strip() for c, v in zip(columns, row, strict=True) if c is not None}
    specimen_id, analyte = cells.get("specimen_id", ""), cells.get("analyte", "")
    if not specimen_id:
        report.problem(where, Problem.MALFORMED, "No specimen id.")
        return
    if not analyte:
        report.problem(where, Problem.MALFORMED, "No analyte.")
        return
    line = Line(
        where=where,
        specimen_id=specimen_id,
        codes=(analyte,),
        label=analyte[:40],
        method=ResultMethod.DEFINITIVE,
        unit=cells.get("unit", "")[:20],
        accession=cells.get("accession", "")[:60],
    )
    try:
        method = cells.get("method", "")
        if method:
            if _norm(method) not in _METHODS:
                raise ValueError(f"Method “{method[:40]}” is not presumptive or definitive.")
            line.method = _METHODS[_norm(method)]
        outcome = cells.get("outcome", "")
        if outcome:
            word = _outcome_word(outcome)
            if not word:
                raise ValueError(
                    f"Result “{outcome[:40]}” is not positive, negative or inconclusive."
                )
            line.outcome = word
        if cells.get("value"):
            value, line.below = _number(cells["value"], "Value")
            line.value = None if line.below else value
        if cells.get("cutoff"):
            line.cutoff, _ = _number(cells["cutoff"], "Cut-off")
        if not line.outcome and line.value is None and not line.below:
            raise ValueError("No result: give an outcome or a value.")
        line.resulted_at = _csv_time(cells.get("resulted_at", ""))
    except ValueError as exc:
        report.problem(where, Problem.BAD_VALUE, str(exc))
        return
    report.lines.append(line)


# --- HL7 v2 ---------------------------------------------------------------------------------


def _unescape(text: str, separators: str, esc: str) -> str:
    """HL7 escape sequences for the delimiters (\\F\\ \\S\\ \\T\\ \\R\\ \\E\\) and hex
    (\\Xhh\\); formatting sequences are dropped. (python-hl7's own `unescape` expands
    ".spN" N times, which a hostile file could use to exhaust memory.)"""
    if not esc or esc not in text:
        return text
    names = {
        "F": separators[1],
        "R": separators[2],
        "S": separators[3],
        "T": separators[4],
        "E": esc,
    }
    out: list[str] = []
    parts = text.split(esc)
    # Even parts are text, odd parts are escape sequences.
    for i, part in enumerate(parts):
        if i % 2 == 0:
            out.append(part)
        elif part in names:
            out.append(names[part])
        elif part[:1] == "X" and re.fullmatch(r"(?:[0-9A-Fa-f]{2}){1,8}", part[1:]):
            out.append(bytes.fromhex(part[1:]).decode("latin-1"))
    return "".join(out)


def _child(node: Any, index: int) -> Any:
    if isinstance(node, str):
        return node if index == 1 else ""
    return node[index - 1] if index <= len(node) else ""


def _part(segment: Any, field_num: int, component: int = 1, sub: int = 1) -> str:
    """The text at SEG-field.component.subcomponent of the first repetition, "" where the
    message stops short (the HL7 rule: a missing optional part is empty)."""
    if field_num >= len(segment):
        return ""
    node = _child(_child(_child(segment[field_num], 1), component), sub)
    while not isinstance(node, str):
        node = node[0] if len(node) else ""
    return _unescape(node, segment.separators, segment.esc).strip()


def _repetitions(segment: Any, field_num: int) -> list[str]:
    """The first component of each repetition of a field."""
    if field_num >= len(segment):
        return []
    item = segment[field_num]
    out = []
    for rep in [item] if isinstance(item, str) else item:
        node = _child(_child(rep, 1), 1)
        while not isinstance(node, str):
            node = node[0] if len(node) else ""
        out.append(_unescape(node, segment.separators, segment.esc).strip())
    return out


def _header_problem(raw: str) -> str:
    """Why an MSH segment cannot be read, or ""."""
    if len(raw) < 9:
        return "The MSH segment is too short."
    sep = raw[3]
    end = raw.find(sep, 4)
    encoding = raw[4:end] if end > 0 else ""
    chars = sep + encoding
    if (
        sep.isalnum()
        or sep.isspace()
        or not 4 <= len(encoding) <= 5
        or len(set(chars)) != len(chars)
        or any(c.isalnum() or c.isspace() for c in chars)
    ):
        return "MSH-1 and MSH-2 (the delimiters) are not valid, e.g. MSH|^~\\&|."
    return ""


@dataclass
class _Order:
    """An OBR group of an ORU^R01 message and its OBX results."""

    where: str
    placer: str
    filler: str
    orc_placer: str
    orc_filler: str
    reported: str
    observations: list[tuple[str, Any]] = field(default_factory=list)
    specimen: str = ""
    in_specimen: bool = False


def parse_hl7(text: str) -> ImportReport:
    """One or more HL7 v2 ORU^R01 messages (optionally in FHS/BHS batches), segments
    separated by carriage returns or line feeds."""
    report = ImportReport(format=HL7)
    try:
        text = check_text(text.replace("\x0b", "").replace("\x1c", ""))
    except ImportFileError as exc:
        report.error = str(exc)
        return report
    messages: list[list[tuple[int, str]]] = []
    number = 0
    for raw in _NEWLINE.split(text):
        raw = raw.strip()
        if not raw:
            continue
        number += 1
        kind = raw[:3]
        if not _SEGMENT_ID.fullmatch(kind):
            report.problem(
                f"segment {number}",
                Problem.MALFORMED,
                f"“{raw[:20]}” does not start with a segment name (such as OBX|).",
            )
        elif kind in ("FHS", "FTS", "BHS", "BTS"):
            continue  # the batch envelope
        elif kind == "MSH":
            messages.append([(number, raw)])
        elif not messages:
            report.problem(
                f"segment {number} ({kind})",
                Problem.MALFORMED,
                "A segment before the message header (MSH).",
            )
        else:
            messages[-1].append((number, raw))
    if not messages:
        report.problems.clear()
        report.error = "No MSH segment: this is not an HL7 v2 message."
        return report
    for segments in messages:
        _hl7_message(segments, report)
    if not report.line_count:
        if not report.problems:
            report.error = "The message(s) hold no results (no OBX segment)."
        elif all(p.reason == Problem.WRONG_TYPE for p in report.problems):
            report.error = report.problems[0].detail
    report.sort_problems()
    return report


def _hl7_message(segments: list[tuple[int, str]], report: ImportReport) -> None:
    number, header = segments[0]
    where = f"segment {number} (MSH)"
    problem = _header_problem(header)
    if problem:
        report.problem(where, Problem.MALFORMED, problem)
        return
    sep = header[3]
    kept = []
    for n, raw in segments[1:]:
        if len(raw) > 3 and raw[3] != sep:
            report.problem(
                f"segment {n} ({raw[:3]})",
                Problem.MALFORMED,
                f"The segment name is not followed by the field separator “{sep}”.",
            )
        else:
            kept.append((n, raw))
    try:
        message = hl7.parse("\r".join([header] + [raw for _, raw in kept]))
    except (hl7.HL7Exception, ValueError, IndexError, AssertionError) as exc:
        report.problem(where, Problem.MALFORMED, f"The message cannot be read ({exc}).")
        return
    msh = message[0]
    kind = f"{_part(msh, 9, 1)}^{_part(msh, 9, 2)}"
    if kind.upper() != "ORU^R01":
        report.problem(
            where,
            Problem.WRONG_TYPE,
            f"The message type (MSH-9) is “{kind.strip('^')[:20]}”; only ORU^R01 (observation "
            "results) can be imported.",
        )
        return
    sent = _part(msh, 7)
    order: _Order | None = None
    orc = ("", "")
    for (n, raw), segment in zip(kept, message[1:], strict=True):
        kind = raw[:3]
        where = f"segment {n} ({kind})"
        if kind == "ORC":
            if order is not None:
                _hl7_order(order, sent, report)
                order = None
            orc = (_part(segment, 2), _part(segment, 3))
        elif kind == "OBR":
            if order is not None:
                _hl7_order(order, sent, report)
            order = _Order(
                where=where,
                placer=_part(segment, 2),
                filler=_part(segment, 3),
                orc_placer=orc[0],
                orc_filler=orc[1],
                reported=_part(segment, 22),
            )
            orc = ("", "")
        elif kind == "SPM" and order is not None:
            order.specimen = order.specimen or _part(segment, 2, 1, 1)
            order.in_specimen = True
        elif kind == "OBX":
            if order is None:
                report.line_count += 1
                report.problem(where, Problem.MALFORMED, "An OBX before any OBR segment.")
            elif order.in_specimen:
                report.notes.append(
                    f"{where}: an observation about the specimen (after SPM), not a drug "
                    "result; not imported."
                )
            else:
                report.line_count += 1
                order.observations.append((where, segment))
    if order is not None:
        _hl7_order(order, sent, report)


def _hl7_order(order: _Order, sent: str, report: ImportReport) -> None:
    specimen_id = order.specimen or order.placer or order.orc_placer
    if not specimen_id:
        report.problem(
            order.where,
            Problem.MALFORMED,
            "No specimen id: give the specimen's barcode in SPM-2, OBR-2 or ORC-2.",
        )
        return
    for where, segment in order.observations:
        try:
            line = _hl7_observation(where, segment, specimen_id, order, sent)
        except ValueError as exc:
            report.problem(where, Problem.BAD_VALUE, str(exc))
            continue
        if line is None:
            report.problem(where, Problem.MALFORMED, "No analyte (OBX-3).")
            continue
        report.lines.append(line)


def _hl7_observation(
    where: str, segment: Any, specimen_id: str, order: _Order, sent: str
) -> Line | None:
    ids = [_part(segment, 3, 1), _part(segment, 3, 4), _part(segment, 3, 2), _part(segment, 3, 5)]
    codes = tuple(c for c in ids if c)
    if not codes:
        return None
    method = ResultMethod.DEFINITIVE
    observed_by = f"{_part(segment, 17, 1)} {_part(segment, 17, 2)}".upper()
    if any(word in observed_by for word in _PRESUMPTIVE_HL7_METHODS):
        method = ResultMethod.PRESUMPTIVE
    line = Line(
        where=where,
        specimen_id=specimen_id,
        codes=codes,
        label=(ids[0] or ids[1] or ids[2] or ids[3])[:40],
        method=method,
        unit=(_part(segment, 6, 1) or _part(segment, 6, 2))[:20],
        accession=(order.filler or order.orc_filler)[:60],
    )
    status = _part(segment, 11).upper()
    if status in _WITHDRAWN_STATUS:
        raise ValueError(f"The lab withdrew this result (OBX-11 status {status}).")
    if status in _PENDING_STATUS:
        raise ValueError("No result yet (OBX-11 status I, in process).")
    value_type = _part(segment, 2).upper()
    if value_type == "SN":  # structured numeric: comparator ^ number
        raw_value = _part(segment, 5, 1) + _part(segment, 5, 2)
    else:
        raw_value = _part(segment, 5, 1)
    words = [_part(segment, 5, 2)] if value_type in ("CE", "CWE") else []
    flags = [f for f in _repetitions(segment, 8) if f]
    if status in _NOT_OBTAINED_STATUS:
        line.outcome = ResultOutcome.INCONCLUSIVE
    for flag in flags:
        named = _outcome_word(flag)
        if named:
            line.outcome = line.outcome or named
            break
    else:
        if flags and not line.outcome:
            raise ValueError(f"Abnormal flag (OBX-8) “{flags[0][:20]}” is not understood.")
    if raw_value:
        named = _outcome_word(raw_value)
        if named is None:
            value, line.below = _number(raw_value, "Value (OBX-5)")
            line.value = None if line.below else value
        elif named:
            line.outcome = line.outcome or named
        elif not line.outcome:
            for word in words:
                named = _outcome_word(word)
                if named:
                    line.outcome = named
                    break
            else:
                raise ValueError(f"Value (OBX-5) “{raw_value[:40]}” is not a result.")
    if not line.outcome and line.value is None and not line.below:
        raise ValueError("No result: OBX-5 (value) and OBX-8 (flag) are empty.")
    reference = _part(segment, 7)
    if reference.startswith("<") and reference[1:].strip():
        try:
            line.cutoff, _ = _number(reference[1:].lstrip("="), "Reference range (OBX-7)")
        except ValueError:
            line.cutoff = None  # a range written otherwise: the panel's cut-off applies
    line.resulted_at = parse_hl7_ts(
        _part_or(order.reported, _part(segment, 19), _part(segment, 14), sent)
    )
    return line


def _part_or(*values: str) -> str:
    return next((v for v in values if v), "")


# --- matching -------------------------------------------------------------------------------


def _analyte_index() -> dict[str, Analyte]:
    analytes = list(Analyte.objects.all())
    index: dict[str, Analyte] = {}
    for analyte in analytes:
        index.setdefault(_norm(analyte.name), analyte)
        if analyte.loinc:
            index.setdefault(_norm(analyte.loinc), analyte)
    by_code = {_norm(a.code): a for a in analytes}
    for alias, code in ANALYTE_ALIASES.items():
        if code in by_code:
            index[alias] = by_code[code]
    index.update(by_code)  # a code always wins over a name or an alias
    return index


def _find_analyte(index: dict[str, Analyte], codes: Iterable[str]) -> Analyte | None:
    for code in codes:
        found = index.get(_norm(code))
        if found is not None:
            return found
    return None


def match(report: ImportReport, *, actor: Any) -> ImportReport:
    """Match the lines to specimens the user can see and to analytes; plan what would be
    recorded, with the interpretation each result would get. A fixed number of queries."""
    report.matched = True
    if report.error or not report.lines:
        return report
    ids = {line.specimen_id for line in report.lines if len(line.specimen_id) <= 40}
    collections = {
        c.specimen_id: c
        for c in Collection.objects.filter(
            specimen_id__in=ids, participant__in=visible_participants(actor)
        ).select_related("order", "order__program", "participant")
    }
    index = _analyte_index()
    found = list(collections.values())
    cutoffs = {
        (pa.panel_id, pa.analyte_id): pa
        for pa in PanelAnalyte.objects.filter(panel_id__in={c.order.panel_id for c in found})
    }
    existing = set(
        Result.objects.filter(collection__in=found, voided=False).values_list(
            "collection_id", "analyte_id", "method"
        )
    )
    medications: dict[int, list[ExpectedMedication]] = {}
    for medication in (
        ExpectedMedication.objects.filter(
            participant_id__in={c.participant_id for c in found}, voided=False
        )
        .prefetch_related("analytes")
        .order_by("start_date", "pk")
    ):
        medications.setdefault(medication.participant_id, []).append(medication)
    plans: dict[tuple[int, str], SpecimenPlan] = {}
    seen: set[tuple[int, int, str]] = set()
    now = timezone.now()
    for line in report.lines:
        collection = collections.get(line.specimen_id)
        if collection is None:
            report.problem(
                line.where,
                Problem.UNKNOWN_SPECIMEN,
                f"No specimen “{line.specimen_id[:40]}” in your programs.",
            )
            continue
        if collection.voided or collection.order.voided:
            report.problem(
                line.where,
                Problem.VOIDED,
                f"Specimen {collection.specimen_id} was voided; its results are not recorded.",
            )
            continue
        analyte = _find_analyte(index, line.codes)
        if analyte is None:
            report.problem(
                line.where,
                Problem.UNKNOWN_ANALYTE,
                f"No analyte with the code “{line.label}”.",
            )
            continue
        program = collection.order.program
        panel_line = cutoffs.get((collection.order.panel_id, analyte.pk))
        cutoff = line.cutoff
        if cutoff is None and panel_line is not None:
            cutoff = panel_line.cutoff
            if line.method == ResultMethod.DEFINITIVE and panel_line.confirm_cutoff is not None:
                cutoff = panel_line.confirm_cutoff
        outcome = line.outcome
        if not outcome:
            if line.below:
                outcome = ResultOutcome.NEGATIVE
            elif cutoff is None or line.value is None:
                report.problem(
                    line.where,
                    Problem.BAD_VALUE,
                    f"No outcome for {analyte.code} and no cut-off to judge the value by.",
                )
                continue
            else:
                outcome = ResultOutcome.POSITIVE if line.value >= cutoff else ResultOutcome.NEGATIVE
        value = line.value
        if value is not None and value > MAX_VALUE:
            report.problem(line.where, Problem.BAD_VALUE, "The value is too large.")
            continue
        if cutoff is not None and cutoff > MAX_CUTOFF:
            report.problem(line.where, Problem.BAD_VALUE, "The cut-off is too large.")
            continue
        resulted_at = line.resulted_at
        if resulted_at is not None:
            if timezone.is_naive(resulted_at):
                resulted_at = timezone.make_aware(resulted_at, program.tz)
            if resulted_at > now + services.CLOCK_SKEW:
                report.problem(line.where, Problem.BAD_VALUE, "The result time is in the future.")
                continue
        key = (collection.pk, analyte.pk, line.method)
        if key in seen:
            report.problem(
                line.where,
                Problem.DUPLICATE,
                f"{analyte.code} ({line.method}) of specimen {collection.specimen_id} is "
                "given more than once.",
            )
            continue
        seen.add(key)
        if key in existing:
            report.problem(
                line.where,
                Problem.ALREADY_RECORDED,
                f"Specimen {collection.specimen_id} already has a {line.method} {analyte.code} "
                "result; void it first to correct it.",
            )
            continue
        day = timezone.localtime(collection.collected_at, program.tz).date()
        meaning, explained_by = services.interpret(
            outcome, analyte.pk, day, medications.get(collection.participant_id, [])
        )
        plan = plans.get((collection.pk, line.method))
        if plan is None:
            plan = plans[(collection.pk, line.method)] = SpecimenPlan(
                collection=collection, method=line.method
            )
        plan.accession = plan.accession or line.accession
        if resulted_at is not None and (plan.resulted_at is None or resulted_at > plan.resulted_at):
            plan.resulted_at = resulted_at
        plan.results.append(
            Planned(
                where=line.where,
                analyte=analyte,
                method=line.method,
                outcome=outcome,
                value=value,
                unit=line.unit if value is not None else "",
                cutoff=cutoff,
                interpretation=meaning,
                explained_by=explained_by,
            )
        )
    report.specimens = list(plans.values())
    report.sort_problems()
    return report


# --- the import -----------------------------------------------------------------------------


def preview(text: str, *, fmt: str = AUTO, actor: Any) -> ImportReport:
    """What the file would record and every problem; records nothing."""
    return match(parse(text, fmt), actor=actor)


def import_results(
    text: str, *, fmt: str = AUTO, actor: Any, dry_run: bool = False
) -> ImportReport:
    """Record every result of the file, or none of them (see the module's docstring)."""
    report = preview(text, fmt=fmt, actor=actor)
    report.dry_run = dry_run
    if dry_run or not report.ok:
        return report
    current: SpecimenPlan | None = None
    try:
        with transaction.atomic():
            for plan in report.specimens:
                current = plan
                created = services.record_results(
                    plan.collection,
                    [p.entry() for p in plan.results],
                    actor=actor,
                    source=report.source,
                    accession=plan.accession,
                    resulted_at=plan.resulted_at,
                )
                for planned, result in zip(plan.results, created, strict=True):
                    planned.interpretation = result.interpretation
                    planned.explained_by = result.explained_by
            audit.record(
                AuditAction.CREATE,
                actor=actor,
                object_type="screening.import",
                object_repr=f"{report.format_label} import",
                changes={
                    "format": [None, report.format],
                    "specimens": [None, [p.collection.specimen_id for p in report.specimens]],
                    "results": [None, report.result_count],
                },
            )
    except (services.ScreeningError, services.ScreeningInputError) as exc:
        # Someone recorded results for the same specimen meanwhile: nothing was kept.
        where = current.results[0].where if current else "file"
        report.problem(where, Problem.ALREADY_RECORDED, str(exc))
        return report
    report.recorded = True
    return report
