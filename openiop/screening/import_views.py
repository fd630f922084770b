"""Importing a laboratory's results from a file (issue 7, point 6): upload a lab's CSV or
HL7 v2 ORU^R01 file, see what would be recorded and every problem, then import it, all or
nothing (`imports`).

The preview keeps the file's text in a hidden field of its "Import" form (posted, never in
a URL); the import reads and checks it all again. Only lab and director roles
(`Perm.SCREENING_COLLECT`) import, and only specimens of participants the user can see are
matched. An unreadable file answers 400 with the form's error; a file with problems
records nothing and answers 400 (409 when the only problem is results already recorded).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render

from openiop.core import audit
from openiop.core.access import StaffRequest, staff_view
from openiop.core.choices import AuditAction
from openiop.core.forms import posted
from openiop.core.roles import Perm

from . import imports

FORMATS = [
    (imports.AUTO, "Detect from the file"),
    (imports.CSV, "Lab CSV"),
    (imports.HL7, "HL7 v2 ORU^R01"),
]
ACTIONS = [("preview", "Preview"), ("import", "Import")]
# The page lists this many problems; a count says how many more there are.
SHOWN_PROBLEMS = 500


class ImportForm(forms.Form):
    format = forms.ChoiceField(label="Format", choices=FORMATS, initial=imports.AUTO)
    file = forms.FileField(
        label="Results file",
        required=False,
        help_text=f"The lab's CSV or HL7 file, UTF-8 text, up to "
        f"{imports.MAX_BYTES // 1_000_000} MB and {imports.MAX_LINES:,} lines.",
    )
    # The previewed file's text, posted back by the "Import" button.
    content = forms.CharField(required=False, strip=False, widget=forms.HiddenInput)
    action = forms.ChoiceField(choices=ACTIONS, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload = data.get("file")
        content = data.get("content") or ""
        try:
            if upload is not None:
                if upload.size is not None and upload.size > imports.MAX_BYTES:
                    raise imports.ImportFileError(
                        f"The file is larger than {imports.MAX_BYTES // 1_000_000} MB."
                    )
                data["text"] = imports.decode(upload.read())
            elif content.strip():
                data["text"] = imports.check_text(content)
            elif "file" not in self.errors:
                self.add_error("file", "Choose the lab's results file.")
        except imports.ImportFileError as exc:
            self.add_error("file" if upload is not None else None, str(exc))
        return data


def _page(
    request: StaffRequest,
    form: ImportForm,
    *,
    report: imports.ImportReport | None = None,
    text: str = "",
    status: int = 200,
) -> HttpResponse:
    problems = report.problems if report else []
    return render(
        request,
        "screening/import.html",
        {
            "form": form,
            "report": report,
            "problems": problems[:SHOWN_PROBLEMS],
            "more_problems": max(0, len(problems) - SHOWN_PROBLEMS),
            "content": text,
            "max_mb": imports.MAX_BYTES // 1_000_000,
        },
        status=status,
    )


@staff_view(Perm.SCREENING_COLLECT, audit_page="screening.import")
def upload(request: StaffRequest) -> HttpResponse:
    form = ImportForm(posted(request), request.FILES if request.method == "POST" else None)
    if request.method != "POST":
        return _page(request, form)
    if not form.is_valid():
        return _page(request, form, status=400)
    action = form.cleaned_data["action"]
    text = form.cleaned_data["text"]
    report = imports.import_results(
        text,
        fmt=form.cleaned_data["format"],
        actor=request.user,
        dry_run=action == "preview",
    )
    if report.error:
        form.add_error("file" if form.cleaned_data.get("file") else None, report.error)
        return _page(request, form, status=400)
    if report.recorded:
        done = (
            f"Imported {report.result_count} results for {len(report.specimens)} "
            f"specimen{'s' if len(report.specimens) != 1 else ''} ({report.format_label})."
        )
        unexpected = [code for plan in report.specimens for code in plan.unexpected]
        if unexpected:
            done += f" Unexpected: {', '.join(unexpected)}; the counsellors have reviews to do."
        messages.success(request, done)
        return redirect("screening:import")
    # A preview, or an import refused: the page shows participants' results, so it is
    # audited (counts only, no names).
    audit.record(
        AuditAction.VIEW,
        actor=request.user,
        object_type="screening.import",
        object_repr=f"{report.format_label} {action}",
        changes={
            "action": [None, action],
            "results": [None, report.result_count],
            "specimens": [None, len(report.specimens)],
            "problems": [None, len(report.problems)],
        },
    )
    status = 200
    if action == "import":
        count = len(report.problems)
        form.add_error(
            None,
            f"Nothing was recorded: {count} problem{'s' if count != 1 else ''} (listed "
            "below). Correct the file, or the records, and import it again.",
        )
        status = 409 if report.refused_by_state else 400
    return _page(request, form, report=report, text=text, status=status)
