"""Lab results imported from a CSV file or HL7 v2 ORU^R01 messages (issue 7, point 6;
acceptance 3 and 6): the sample files import, unmatched and malformed lines are listed and
nothing is recorded (all or nothing per file), bad files get a clear error, and no text
makes the parsers raise."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openiop.core.models import AuditEvent
from openiop.participants.choices import EpisodeStatus as S
from openiop.screening import imports, services
from openiop.screening.choices import (
    CustodyStep,
    Interpretation,
    ResultMethod,
    ResultOutcome,
    ResultSource,
    ReviewReason,
)
from openiop.screening.imports import Problem
from openiop.screening.models import Analyte, Collection, CustodyEvent, Result, Review
from openiop.testing import make_participant

SAMPLES = Path(__file__).parent / "samples"
URL = "screening:import"


def sample(name: str) -> str:
    return imports.decode((SAMPLES / name).read_bytes())


def analyte(code: str) -> Analyte:
    return Analyte.objects.get(code=code)


def collect(world, participant, specimen_id: str, when: dt.datetime) -> Collection:
    order = services.order_test(
        participant.current_episode,
        actor=world.counsellor,
        day=when.date(),
        reason="for_cause",
        reason_detail="test",
    )
    return services.record_collection(
        order,
        services.CollectionInput(specimen_id=specimen_id, collected_at=when),
        actor=world.lab,
    )


@pytest.fixture
def lab(world):
    """Four specimens collected on Jan 5, 2026: LAB-1001 and HL7-2001 from world.active,
    who takes buprenorphine; LAB-1002 and HL7-2002 from another participant."""
    tz = zoneinfo.ZoneInfo(world.program.time_zone)
    when = dt.datetime(2026, 1, 5, 9, 0, tzinfo=tz)
    other = make_participant(
        world.program, world.intake, last="Second", status=S.ACTIVE, counsellor=world.counsellor
    )
    world.participants["second"] = other
    world.records["bup"] = services.add_expected_medication(
        world.active,
        actor=world.counsellor,
        name="Buprenorphine (Suboxone)",
        analytes=[analyte("BUP"), analyte("NORBUP")],
        start_date=dt.date(2025, 12, 1),
    )
    for specimen_id, participant, minutes in (
        ("LAB-1001", world.active, 0),
        ("LAB-1002", other, 5),
        ("HL7-2001", world.active, 10),
        ("HL7-2002", other, 15),
    ):
        world.records[specimen_id] = collect(
            world, participant, specimen_id, when + dt.timedelta(minutes=minutes)
        )
    return world


def results_of(specimen_id: str) -> dict[str, Result]:
    return {
        r.analyte.code: r
        for r in Result.objects.filter(
            collection__specimen_id=specimen_id, voided=False
        ).select_related("analyte", "explained_by")
    }


def reasons(report: imports.ImportReport) -> list[tuple[str, str]]:
    return [(p.where, p.reason) for p in report.problems]


# --- the sample files ---------------------------------------------------------------------


@pytest.mark.django_db
def test_the_csv_sample_imports(lab):
    report = imports.import_results(sample("results.csv"), actor=lab.lab)

    assert report.recorded and report.ok, report.problems
    assert report.format == imports.CSV and report.result_count == 7
    assert report.notes == ["Columns not read: “comment”."]
    first, second = results_of("LAB-1001"), results_of("LAB-1002")
    assert set(first) == {"BUP", "NORBUP", "FEN", "COC"}  # BZE is cocaine's metabolite
    assert set(second) == {"THC", "6AM", "ETG"}  # THC-COOH, 6-MAM, EtG
    bup = first["BUP"]
    assert bup.interpretation == Interpretation.EXPECTED
    assert bup.explained_by == lab.bup
    assert (bup.value, bup.unit, bup.cutoff) == (Decimal("212"), "ng/mL", Decimal("5"))
    assert bup.method == ResultMethod.DEFINITIVE and bup.source == ResultSource.CSV
    assert bup.lab_accession == "ACC-778812"
    tz = zoneinfo.ZoneInfo(lab.program.time_zone)
    assert bup.resulted_at == dt.datetime(2026, 1, 7, 14, 30, tzinfo=tz)
    assert first["FEN"].interpretation == Interpretation.NEGATIVE
    # No outcome column value: 42.5 against the file's cut-off of 15 is positive.
    thc = second["THC"]
    assert thc.outcome == ResultOutcome.POSITIVE
    assert thc.interpretation == Interpretation.UNEXPECTED
    # "<100": below the reporting limit, negative without a value.
    assert second["ETG"].outcome == ResultOutcome.NEGATIVE and second["ETG"].value is None
    # The unexpected positive opens a review for the counsellor; the expected one does not.
    assert not Review.objects.filter(order=lab.records["LAB-1001"].order).exists()
    review = Review.objects.get(order=lab.records["LAB-1002"].order)
    assert review.reason == ReviewReason.UNEXPECTED_POSITIVE and review.detail == "THC"
    assert review.assigned_to == lab.counsellor
    resulted = CustodyEvent.objects.filter(
        collection=lab.records["LAB-1001"], step=CustodyStep.RESULTED
    )
    assert resulted.count() == 1
    event = AuditEvent.objects.get(object_type="screening.import")
    assert event.changes["specimens"][1] == ["LAB-1001", "LAB-1002"]
    assert event.actor == lab.lab


@pytest.mark.django_db
def test_the_hl7_sample_with_two_specimens_imports(lab):
    text = sample("oru_r01_two_specimens.hl7")
    assert "\r" in text and "\n" not in text  # segments end with carriage returns

    report = imports.import_results(text, actor=lab.lab)

    assert report.recorded, report.problems
    assert report.format == imports.HL7 and report.result_count == 7
    # The creatinine OBX after SPM is about the specimen: listed, not imported.
    assert len(report.notes) == 1 and "segment 16 (OBX)" in report.notes[0]
    first, second = results_of("HL7-2001"), results_of("HL7-2002")
    assert set(first) == {"BUP", "NORFEN", "COC"}
    assert set(second) == {"THC", "OXY", "6AM", "ETG"}  # matched through SPM-2
    bup = first["BUP"]
    assert bup.interpretation == Interpretation.EXPECTED and bup.explained_by == lab.bup
    assert bup.source == ResultSource.HL7 and bup.lab_accession == "NL-55001"  # OBR-3
    assert bup.resulted_at == dt.datetime(
        2026, 1, 7, 14, 0, tzinfo=dt.timezone(-dt.timedelta(hours=5))
    )  # OBR-22
    assert first["COC"].outcome == ResultOutcome.NEGATIVE  # "Negative" in OBX-5
    assert second["THC"].interpretation == Interpretation.UNEXPECTED  # flag H
    assert second["THC"].cutoff == Decimal("15")  # OBX-7 "<15"
    assert second["OXY"].outcome == ResultOutcome.NEGATIVE  # flag N
    assert second["6AM"].outcome == ResultOutcome.NEGATIVE  # SN "<^10"
    assert second["ETG"].outcome == ResultOutcome.NEGATIVE  # CE "NEG^Negative"
    assert not Review.objects.filter(order=lab.records["HL7-2001"].order).exists()
    assert Review.objects.get(order=lab.records["HL7-2002"].order).detail == "THC"


@pytest.mark.django_db
def test_hl7_segments_may_end_with_line_feeds_or_crlf(lab):
    text = sample("oru_r01_two_specimens.hl7").replace("\r", "\r\n")
    report = imports.import_results(text, actor=lab.lab, dry_run=True)
    assert report.ok and report.result_count == 7


@pytest.mark.django_db
def test_a_dry_run_records_nothing_and_says_what_would_be_recorded(lab):
    before = AuditEvent.objects.count()

    report = imports.import_results(sample("results.csv"), actor=lab.lab, dry_run=True)

    assert report.ok and report.dry_run and not report.recorded
    assert [p.collection.specimen_id for p in report.specimens] == ["LAB-1001", "LAB-1002"]
    planned = {r.analyte.code: r for plan in report.specimens for r in plan.results}
    assert planned["BUP"].interpretation == Interpretation.EXPECTED
    assert planned["BUP"].explained_by == lab.bup
    assert planned["THC"].interpretation == Interpretation.UNEXPECTED
    assert report.specimens[1].unexpected == ["THC"]
    assert not Result.objects.exists()
    assert not Review.objects.exists()
    assert not CustodyEvent.objects.filter(step=CustodyStep.RESULTED).exists()
    assert AuditEvent.objects.count() == before
    assert imports.preview(sample("results.csv"), actor=lab.lab).result_count == 7


# --- unmatched and malformed: listed, nothing recorded ------------------------------------


@pytest.mark.django_db
def test_unmatched_hl7_lines_are_listed_and_nothing_is_recorded(lab):
    report = imports.import_results(sample("oru_r01_unmatched.hl7"), actor=lab.lab)

    assert not report.recorded and not report.ok
    assert reasons(report) == [
        ("segment 5 (OBX)", Problem.UNKNOWN_ANALYTE),
        ("segment 9 (OBX)", Problem.UNKNOWN_SPECIMEN),
    ]
    assert "HL7-9999" in report.problems[1].detail
    # The buprenorphine of HL7-2001 matched, but the file is all or nothing.
    assert report.result_count == 1
    assert not Result.objects.exists() and not Review.objects.exists()


@pytest.mark.django_db
def test_malformed_hl7_segments_are_listed_with_their_numbers(lab):
    report = imports.import_results(sample("oru_r01_malformed.hl7"), actor=lab.lab)

    assert not report.recorded and not report.error
    assert reasons(report) == [
        ("segment 3 (OBX)", Problem.MALFORMED),  # before any OBR
        ("segment 5 (OBX)", Problem.BAD_VALUE),  # "12abc"
        ("segment 6 (OBX)", Problem.BAD_VALUE),  # flag "ZZ"
        ("segment 7", Problem.MALFORMED),  # not a segment
        ("segment 8 (OBX)", Problem.MALFORMED),  # no OBX-3
        ("segment 9 (OBX)", Problem.BAD_VALUE),  # withdrawn (status W)
    ]
    assert "12abc" in report.problems[1].detail
    assert not Result.objects.exists()


@pytest.mark.django_db
def test_csv_problems_are_each_listed_and_nothing_is_recorded(lab):
    report = imports.import_results(sample("results_problems.csv"), actor=lab.lab)

    assert not report.recorded
    assert reasons(report) == [
        ("line 3", Problem.UNKNOWN_SPECIMEN),
        ("line 4", Problem.UNKNOWN_ANALYTE),
        ("line 5", Problem.BAD_VALUE),  # "maybe"
        ("line 6", Problem.BAD_VALUE),  # "12x"
        ("line 7", Problem.MALFORMED),  # 3 fields of 5
        ("line 8", Problem.DUPLICATE),  # BUP of LAB-1001 again
    ]
    assert "KRATOM" in report.problems[1].detail
    assert not Result.objects.exists()


@pytest.mark.django_db
def test_importing_the_same_file_twice_is_refused_with_a_clear_report(lab):
    assert imports.import_results(sample("results.csv"), actor=lab.lab).recorded
    count = Result.objects.count()

    again = imports.import_results(sample("results.csv"), actor=lab.lab)

    assert not again.recorded and again.refused_by_state
    assert len(again.problems) == 7
    assert {p.reason for p in again.problems} == {Problem.ALREADY_RECORDED}
    assert "void it first" in again.problems[0].detail
    assert Result.objects.count() == count


@pytest.mark.django_db
def test_a_voided_specimen_is_listed(lab):
    Collection.objects.filter(specimen_id="LAB-1002").update(voided=True)
    report = imports.import_results(sample("results.csv"), actor=lab.lab)
    assert not report.recorded
    assert {p.reason for p in report.problems} == {Problem.VOIDED}
    assert len(report.problems) == 3
    assert not Result.objects.exists()


@pytest.mark.django_db
def test_another_programs_specimen_is_unknown(lab):
    collect(
        lab,
        lab.foreign,
        "FOREIGN-1",
        dt.datetime(2026, 1, 5, 9, tzinfo=zoneinfo.ZoneInfo(lab.program.time_zone)),
    )
    text = "specimen_id,analyte,outcome\nFOREIGN-1,FEN,POS\n"
    report = imports.import_results(text, actor=lab.lab)
    assert reasons(report) == [("line 2", Problem.UNKNOWN_SPECIMEN)]
    assert not Result.objects.exists()


@pytest.mark.django_db
def test_a_failure_while_recording_keeps_nothing(lab, monkeypatch):
    """Results recorded for a specimen between the check and the import: the whole file
    is rolled back."""
    real = services.record_results
    calls = []

    def second_fails(collection, entries, **kwargs):
        calls.append(collection.specimen_id)
        if len(calls) == 2:
            raise services.ScreeningError("Results already recorded for THC; void them.")
        return real(collection, entries, **kwargs)

    monkeypatch.setattr(services, "record_results", second_fails)
    report = imports.import_results(sample("results.csv"), actor=lab.lab)

    assert calls == ["LAB-1001", "LAB-1002"]
    assert not report.recorded
    assert reasons(report) == [("line 6", Problem.ALREADY_RECORDED)]
    assert not Result.objects.exists()
    assert not AuditEvent.objects.filter(object_type="screening.import").exists()


# --- matching rules -----------------------------------------------------------------------


@pytest.mark.django_db
def test_without_an_outcome_the_panels_cut_off_judges_the_value(lab):
    # The 12-panel cup: THC screens at 50 and confirms at 15 ng/mL (DOMAIN.md §5.2).
    text = (
        "specimen_id,analyte,value,method\n"
        "LAB-1001,THC,20,definitive\n"
        "LAB-1001,THC,20,presumptive\n"
        "LAB-1001,MDMA,20,presumptive\n"  # not on the cup: no cut-off to judge by
    )
    report = imports.preview(text, actor=lab.lab)
    planned = [(r.method, r.outcome, r.cutoff) for p in report.specimens for r in p.results]
    assert planned == [
        (ResultMethod.DEFINITIVE, ResultOutcome.POSITIVE, Decimal("15")),
        (ResultMethod.PRESUMPTIVE, ResultOutcome.NEGATIVE, Decimal("50")),
    ]
    assert reasons(report) == [("line 4", Problem.BAD_VALUE)]
    assert "no cut-off" in report.problems[0].detail


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("BZE", "COC"),
        ("thca", "THC"),
        ("THC-COOH", "THC"),
        ("6-MAM", "6AM"),
        ("BENZ", "BZO"),
        ("OXYC", "OXY"),
        ("NORFENT", "NORFEN"),
        ("EtG", "ETG"),
        ("Buprenorphine", "BUP"),  # the analyte's name
        ("norbup", "NORBUP"),  # a code, any case
    ],
)
def test_analyte_aliases(lab, code, expected):
    report = imports.preview(f"specimen_id,analyte,outcome\nLAB-1001,{code},NEG\n", actor=lab.lab)
    assert report.ok, report.problems
    assert report.specimens[0].results[0].analyte.code == expected


@pytest.mark.django_db
def test_a_loinc_code_in_obx3_finds_the_analyte(lab):
    Analyte.objects.filter(code="FEN").update(loinc="59673-1")
    text = (
        "MSH|^~\\&|LAB|X|OIOP|H|20260107||ORU^R01|1|P|2.5\r"
        "OBR|1|LAB-1001|A1\r"
        "OBX|1|NM|59673-1^Fentanyl [Mass/volume] in Urine^LN||0|ng/mL||N|||F\r"
    )
    report = imports.preview(text, actor=lab.lab)
    assert report.ok, report.problems
    assert report.specimens[0].results[0].analyte.code == "FEN"


@pytest.mark.django_db
def test_a_result_dated_in_the_future_is_refused(lab):
    text = "specimen_id,analyte,outcome,resulted_at\nLAB-1001,FEN,NEG,2099-01-01T10:00\n"
    report = imports.preview(text, actor=lab.lab)
    assert reasons(report) == [("line 2", Problem.BAD_VALUE)]
    assert "future" in report.problems[0].detail


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026", dt.datetime(2026, 1, 1)),
        ("20260107", dt.datetime(2026, 1, 7)),
        ("202601071430", dt.datetime(2026, 1, 7, 14, 30)),
        (
            "20260107143005.25-0500",
            dt.datetime(2026, 1, 7, 14, 30, 5, 250000, tzinfo=dt.timezone(-dt.timedelta(hours=5))),
        ),
        # python-hl7 reads "-0030" as +00:30; the importer gets the sign right.
        (
            "202601071430-0030",
            dt.datetime(2026, 1, 7, 14, 30, tzinfo=dt.timezone(-dt.timedelta(minutes=30))),
        ),
        ("", None),
    ],
)
def test_hl7_timestamps(raw, expected):
    assert imports.parse_hl7_ts(raw) == expected


@pytest.mark.parametrize(
    "raw", ["20261307", "20260230", "2026-01-07", "202601071", "20260107+2500", "18991231"]
)
def test_bad_hl7_timestamps_are_refused(raw):
    with pytest.raises(ValueError):
        imports.parse_hl7_ts(raw)


# --- bad files ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"  \r\n\n  ", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        ("specimen_id,analyte\n".encode("utf-16"), "UTF-16"),
        ("specimen_id,analyte,outcome\nLAB-1,café,POS\n".encode("latin-1"), "not UTF-8"),
        (b"x" * (imports.MAX_BYTES + 1), "larger than 2 MB"),
        (b"a\n" * (imports.MAX_LINES + 1), "lines"),
        (b"specimen_id,analyte\x07\n", "control character"),
    ],
)
def test_unreadable_files_get_a_clear_error(data, message):
    with pytest.raises(imports.ImportFileError, match=message):
        imports.decode(data)


@pytest.mark.parametrize(
    ("text", "fmt", "message"),
    [
        ("", imports.AUTO, "empty"),
        ("foo,bar\n1,2\n", imports.AUTO, "lacks the column(s) specimen_id, analyte"),
        ("specimen_id,analyte,unit\nX,BUP,ng\n", imports.CSV, "outcome (or result)"),
        ("specimen_id,analyte,outcome\n", imports.CSV, "no results"),
        ("specimen_id,analyte,outcome,result\n", imports.CSV, "given twice"),
        ("MSH|^~\\&|A\rOBX|1", imports.CSV, "This is an HL7 message"),
        ("PID|1||123\rOBX|1|NM|BUP||5", imports.HL7, "No MSH segment"),
        ("specimen_id,analyte\n", imports.HL7, "No MSH segment"),
        ((SAMPLES / "adt_a01.hl7").read_text(), imports.AUTO, "only ORU^R01"),
        ("MSH|^~\\&|LAB|X|OIOP|H|2026||ORU^R01|1|P|2.5\rPID|1\r", imports.AUTO, "no results"),
        ("x", "xml", "Choose CSV or HL7"),
    ],
)
def test_files_that_are_not_lab_results_get_a_clear_error(text, fmt, message):
    report = imports.parse(text, fmt)
    assert message in report.error
    assert not report.lines


@pytest.mark.parametrize(
    "header",
    ["MSH|", "MSH|^~\\&", "MSH|^~|A|B", "MSH|^^\\&|A|B", "MSHA^~\\&|A|B", "MSH|^~\\&|A"],
)
def test_a_broken_message_header_is_listed(header):
    report = imports.parse(header + "\rOBR|1|LAB-1\rOBX|1|NM|BUP||5|||POS\r", imports.HL7)
    assert report.error or report.problems
    assert not report.lines


@pytest.mark.django_db
def test_an_hl7_escape_cannot_blow_up_memory(lab):
    # python-hl7's unescape would repeat a space 999,999,999 times for "\.sp999999999\".
    text = (
        "MSH|^~\\&|LAB|X|OIOP|H|20260107||ORU^R01|1|P|2.5\r"
        "OBR|1|LAB-1001|A1\r"
        "OBX|1|ST|FEN\\.sp999999999\\^Fentanyl||Neg\\E\\ative|||||F\r"
    )
    report = imports.preview(text, actor=lab.lab)
    assert report.problems or report.ok


# --- no text makes a parser raise ----------------------------------------------------------

SEGMENT_NAMES = ["MSH", "PID", "ORC", "OBR", "OBX", "SPM", "NTE", "FHS", "BHS", "ZZZ", "OB"]
FIELD = st.text(alphabet="|^~\\&ABCX019.<>-+ \tPOSNEG", max_size=12)
HL7ISH = st.lists(
    st.tuples(
        st.sampled_from(SEGMENT_NAMES),
        st.lists(FIELD, max_size=25),
    ),
    max_size=12,
).map(
    lambda segments: "\r".join(
        (
            "MSH|^~\\&|" + "|".join(fields)
            if name == "MSH" and fields[:1] != ["!"]
            else name + "|" + "|".join(fields)
        )
        for name, fields in segments
    )
)
CSVISH = st.lists(
    st.lists(st.text(alphabet=',;"\n\r abcLAB-10BUPOSNEG<>.5', max_size=10), max_size=6),
    max_size=8,
).map(
    lambda rows: "specimen_id,analyte,outcome,value,cutoff,method,resulted_at\n"
    + "\n".join(",".join(row) for row in rows)
)


@given(text=st.one_of(st.text(), HL7ISH, CSVISH))
@settings(max_examples=400, deadline=None)
def test_no_text_makes_the_parsers_raise(text):
    for report in (
        imports.parse_csv(text),
        imports.parse_hl7(text),
        imports.parse(text),
        imports.parse("MSH|^~\\&|" + text),
    ):
        assert isinstance(report, imports.ImportReport)
        assert report.error or report.problems or report.lines or report.notes


@given(data=st.binary(max_size=300))
@settings(max_examples=200, deadline=None)
def test_no_bytes_make_decoding_raise_anything_but_a_clear_error(data):
    try:
        text = imports.decode(data)
    except imports.ImportFileError as exc:
        assert str(exc)
    else:
        assert isinstance(imports.parse(text), imports.ImportReport)


@pytest.mark.django_db
@given(text=st.one_of(HL7ISH, CSVISH))
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_text_makes_the_import_raise(lab, text):
    # Aim some lines at real specimens so that matching is exercised too.
    text = text.replace("LAB-10", "LAB-1001").replace("|A|", "|LAB-1001|")
    report = imports.import_results(text, actor=lab.lab, dry_run=True)
    assert isinstance(report, imports.ImportReport)
    assert not Result.objects.exists()


# --- the import page ----------------------------------------------------------------------


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


@pytest.mark.django_db
def test_the_import_page_is_for_lab_and_director(client, login, lab):
    login(lab.lab)
    response = client.get(reverse(URL))
    assert response.status_code == 200
    assert b'enctype="multipart/form-data"' in response.content
    login(lab.director)
    assert client.get(reverse(URL)).status_code == 200
    login(lab.counsellor)
    assert client.get(reverse(URL)).status_code == 403
    data = {"format": "auto", "action": "import", "content": sample("results.csv")}
    assert client.post(reverse(URL), data).status_code == 403
    assert not Result.objects.exists()


@pytest.mark.django_db
def test_the_lab_previews_then_imports_an_upload(client, login, lab):
    login(lab.lab)
    data = (SAMPLES / "oru_r01_two_specimens.hl7").read_bytes()

    preview = client.post(
        reverse(URL), {"format": "auto", "action": "preview", "file": upload("lab.hl7", data)}
    )

    assert preview.status_code == 200
    report = preview.context["report"]
    assert report.ok and report.format == imports.HL7 and report.result_count == 7
    body = preview.content.decode()
    assert "Import 7 results" in body and "Unexpected positive: opens a review" in body
    assert "Expected — buprenorphine (suboxone)" in body
    assert not Result.objects.exists()
    assert AuditEvent.objects.filter(object_type="screening.import", action="view").exists()

    # The Import button posts the previewed text back (a browser sends CRLF line breaks).
    content = preview.context["content"].replace("\r", "\r\n")
    done = client.post(reverse(URL), {"format": "hl7", "action": "import", "content": content})

    assert done.status_code == 302
    assert Result.objects.count() == 7
    shown = client.get(done["Location"])
    assert "Imported 7 results for 2 specimens" in shown.content.decode()
    assert "Unexpected: THC" in shown.content.decode()


@pytest.mark.django_db
def test_an_upload_can_be_imported_directly(client, login, lab):
    login(lab.director)
    file = upload("results.csv", (SAMPLES / "results.csv").read_bytes())
    response = client.post(reverse(URL), {"format": "csv", "action": "import", "file": file})
    assert response.status_code == 302
    assert Result.objects.count() == 7


@pytest.mark.django_db
def test_a_file_with_problems_is_previewed_and_refused(client, login, lab):
    login(lab.lab)
    file = upload("lab.hl7", (SAMPLES / "oru_r01_unmatched.hl7").read_bytes())
    preview = client.post(reverse(URL), {"format": "auto", "action": "preview", "file": file})
    assert preview.status_code == 200
    body = preview.content.decode()
    assert "Unknown specimen id" in body and "segment 9 (OBX)" in body
    assert "Import 1 result" not in body  # no Import button

    refused = client.post(
        reverse(URL),
        {"format": "hl7", "action": "import", "content": sample("oru_r01_unmatched.hl7")},
    )
    assert refused.status_code == 400
    assert "Nothing was recorded: 2 problems" in str(refused.context["form"].non_field_errors())
    assert not Result.objects.exists()


@pytest.mark.django_db
def test_importing_twice_answers_409(client, login, lab):
    login(lab.lab)
    data = {"format": "csv", "action": "import", "content": sample("results.csv")}
    assert client.post(reverse(URL), data).status_code == 302
    again = client.post(reverse(URL), data)
    assert again.status_code == 409
    assert "Results already recorded" in again.content.decode()
    assert Result.objects.count() == 7


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"file": ("x.png", b"\x89PNG\r\n\x1a\n\x00\x00")}, "file", "binary"),
        ({"file": ("x.csv", b"")}, "file", "empty"),
        ({"file": ("x.csv", b"caf\xe9")}, "file", "not UTF-8"),
        ({"file": ("x.csv", b"x" * (imports.MAX_BYTES + 1))}, "file", "larger than 2 MB"),
        ({"file": ("x.csv", b"foo,bar\n1,2\n")}, "file", "lacks the column"),
        ({"file": ("x.hl7", (SAMPLES / "adt_a01.hl7").read_bytes())}, "file", "ORU^R01"),
        ({}, "file", "Choose the lab's results file"),
        ({"content": "   "}, "file", "Choose the lab's results file"),
        ({"content": "a\x00b"}, "content", "Null characters"),
        ({"content": "specimen_id,analyte\x07\n"}, None, "control character"),
        ({"format": "xml", "content": "x"}, "format", "Select a valid choice"),
        ({"action": "delete", "content": "x"}, "action", "Select a valid choice"),
    ],
)
def test_a_bad_upload_is_a_form_error(client, login, lab, payload, field, message):
    login(lab.lab)
    data = {"format": "auto", "action": "preview"}
    for key, value in payload.items():
        data[key] = upload(*value) if key == "file" else value
    response = client.post(reverse(URL), data)
    assert response.status_code == 400
    form = response.context["form"]
    errors = form.errors.get(field or "__all__", [])
    assert any(message in e for e in errors), form.errors
    assert not Result.objects.exists()
