"""Staff pages for the education material of the family portal (`education.edit`):
the list, writing and changing an article, publishing, unpublishing, retiring."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from openiop.core import audit
from openiop.core.access import StaffRequest, staff_view
from openiop.core.choices import AuditAction
from openiop.core.forms import posted
from openiop.core.roles import Perm
from openiop.scheduling.access import programs_of

from . import services
from .forms import ArticleForm
from .models import EducationArticle


def _int(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isascii() and raw.isdigit() and len(raw) < 12 else None


def article_for(request: StaffRequest, pk: int) -> EducationArticle:
    try:
        return EducationArticle.objects.select_related("program", "updated_by").get(
            pk=pk, program_id__in=request.user.program_ids
        )
    except EducationArticle.DoesNotExist:
        raise Http404("No such article in your programs") from None


@staff_view(Perm.EDUCATION_EDIT, audit_page="education.list")
def article_list(request: StaffRequest) -> HttpResponse:
    programs = list(programs_of(request.user))
    if not programs:
        raise Http404("You have no program")
    program_id = _int(request.GET.get("program"))
    program = next((p for p in programs if p.pk == program_id), programs[0])
    show = request.GET.get("show", "")
    qs = EducationArticle.objects.filter(program=program).select_related("updated_by")
    if show != "retired":
        qs = qs.filter(retired=False)
    articles = list(qs.order_by("section", "language", "position", "title", "pk"))
    return render(
        request,
        "family/education/list.html",
        {
            "programs": programs,
            "program": program,
            "articles": articles,
            "show_retired": show == "retired",
            "retired_count": EducationArticle.objects.filter(
                Q(program=program) & Q(retired=True)
            ).count(),
        },
    )


@staff_view(Perm.EDUCATION_EDIT, audit_page="education.new")
def article_new(request: StaffRequest) -> HttpResponse:
    programs = list(programs_of(request.user))
    if not programs:
        raise Http404("You have no program")
    # The form names its program; a GET without one starts in the user's first program.
    raw = request.POST.get("program") if request.method == "POST" else request.GET.get("program")
    program_id = _int(raw)
    program = next((p for p in programs if p.pk == program_id), None)
    if program is None:
        if raw or request.method == "POST":
            raise Http404("No such program")
        program = programs[0]
    form = ArticleForm(posted(request))
    if request.method == "POST" and form.is_valid():
        article = services.save_article(
            None,
            program=program,
            values={k: form.cleaned_data[k] for k in services.ARTICLE_FIELDS},
            actor=request.user,
        )
        messages.success(request, f"“{article.title}” was saved as a draft. Publish it when ready.")
        return redirect("education:edit", pk=article.pk)
    return render(
        request,
        "family/education/form.html",
        {"form": form, "program": program, "programs": programs, "article": None},
        status=400 if request.method == "POST" else 200,
    )


@staff_view(Perm.EDUCATION_EDIT)
def article_edit(request: StaffRequest, pk: int) -> HttpResponse:
    article = article_for(request, pk)
    form = ArticleForm(posted(request), instance=article, initial={"version": article.version})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            version = form.cleaned_data.get("version")
            try:
                services.save_article(
                    article,
                    program=article.program,
                    values={k: form.cleaned_data[k] for k in services.ARTICLE_FIELDS},
                    actor=request.user,
                    expected_version=version if version is not None else -1,
                )
            except services.FamilyError as exc:
                form.add_error(None, str(exc))
                status = 409
            else:
                messages.success(request, "The article was saved.")
                return redirect("education:edit", pk=article.pk)
    else:
        audit.record(AuditAction.VIEW, actor=request.user, obj=article)
    return render(
        request,
        "family/education/form.html",
        {"form": form, "program": article.program, "article": article},
        status=status,
    )


STATE_TEXT = {
    "publish": ("Publish", "Families see it in the portal from now on."),
    "unpublish": ("Unpublish", "It leaves the portal; you can publish it again."),
    "retire": ("Retire", "It leaves the portal and the list of articles; it is kept."),
    "restore": ("Restore", "It comes back to the list as a draft."),
}


@staff_view(Perm.EDUCATION_EDIT)
def article_state(request: StaffRequest, pk: int) -> HttpResponse:
    article = article_for(request, pk)
    back = reverse("education:edit", args=[article.pk])
    action = request.POST.get("action", "") if request.method == "POST" else ""
    if request.method != "POST":
        audit.record(AuditAction.VIEW, actor=request.user, obj=article)
        return render(
            request,
            "family/education/state.html",
            {"article": article, "actions": _actions_for(article), "back": back},
        )
    if action not in services.ARTICLE_ACTIONS:
        return render(
            request,
            "family/education/state.html",
            {
                "article": article,
                "actions": _actions_for(article),
                "back": back,
                "error": "Choose publish, unpublish, retire or restore.",
            },
            status=400,
        )
    try:
        services.set_article_state(article, action, actor=request.user)
    except services.FamilyError as exc:
        return render(
            request,
            "family/education/state.html",
            {
                "article": article,
                "actions": _actions_for(article),
                "back": back,
                "error": str(exc),
            },
            status=409,
        )
    verb = {"publish": "published", "unpublish": "unpublished", "retire": "retired"}
    messages.success(request, f"“{article.title}” was {verb.get(action, 'restored')}.")
    if action == "retire":
        return redirect("education:list")
    return redirect(back)


def _actions_for(article: EducationArticle) -> list[tuple[str, str, str]]:
    if article.retired:
        names = ["restore"]
    elif article.published:
        names = ["unpublish", "retire"]
    else:
        names = ["publish", "retire"]
    return [(n, *STATE_TEXT[n]) for n in names]
