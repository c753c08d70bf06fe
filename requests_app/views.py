from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import BaseForm
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    JsonResponse,
    QueryDict,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from requests_app import csv_export, notifications, pages, paging, permissions, pickers, roles, search, selectors, services
from requests_app.filters import RequestFilter
from requests_app.forms import (
    ClarificationReplyForm,
    CloseForm,
    CommentForm,
    PreferencesForm,
    RequestForm,
    WithdrawForm,
    check_upload,
)
from requests_app.lifecycle import ConflictError, TransitionError
from requests_app.models import FeasibilityRequest, Profile, Status
from requests_app.roles import Actor, SignedInRequest
from requests_app.selectors import get_request_for


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send each role to its work (`pages.register_landing`); a user with no role gets a page that says so."""
    landing = pages.landing_for(request.user)
    return redirect(landing) if landing else render(request, "home.html")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The one translation of a refusal into a page: a 403 that says why (the rulebook's message)."""
    message = str(exception) if isinstance(exception, PermissionDenied) else ""
    return render(request, "403.html", {"message": message}, status=403)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # Unlike Django's default, no CSRF check here: it reads the POST body again, and a body that
    # could not be parsed (a non-UTF-8 form) turned every such 400 into a 500.
    return render(request, "400.html", status=400)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # No context processors: the database may be what failed.
    from django.template import loader

    return HttpResponse(loader.get_template("500.html").render(), status=500)


# ---------------------------------------------------------------------------------------------
# Sales' side: file, track, clarify, close. Views parse, fetch with permission (404 when out of
# scope), call one service and redirect or render. A service's `permissions.NotAllowed` is not
# caught: it is a PermissionDenied, which `permission_denied` turns into a 403 saying why.

PAGE_SIZE = 25


def _filtered(request: SignedInRequest) -> RequestFilter:
    return RequestFilter(request.GET or None, queryset=selectors.request_list(user=request.user), request=request)


def _list_heading(user: Actor, scope: str = "") -> str:
    if roles.sees_everything(user):
        return "All requests"
    if roles.is_sales(user):
        return {"mine": "My requests", "team": "My teammates' requests"}.get(scope, "My and my team's requests")
    return "Requests routed to my departments"


@login_required
def my_work(request: SignedInRequest) -> HttpResponse:
    """A Sales person's home: what needs their action, then their open requests, then their team's."""
    permissions.require(request.user, "s2o.file_request")
    home = selectors.sales_home(user=request.user, now=timezone.now())
    # The list behind each section: a sales manager acts on the whole team's requests.
    acts_on_team = roles.is_sales_manager(request.user)
    links = {
        "needs_action": "waiting_on=sales" if acts_on_team else "scope=mine&waiting_on=sales",
        "mine": "scope=mine&sort=answer_due",
        "team": "scope=team&sort=answer_due",
    }
    return render(request, "requests_app/my_work.html", {"home": home, "links": links, "acts_on_team": acts_on_team})


@login_required
def request_list(request: SignedInRequest) -> HttpResponse:
    filterset = _filtered(request)
    searched = filterset.first_matches()
    page = paging.paginate(filterset.qs, request.GET.get("page"), per_page=PAGE_SIZE, by_ids=True, head=searched,
                           count_cap=paging.COUNT_CAP if searched is None else search.COUNT_CAP)
    rows = selectors.with_clock_states(page.object_list, now=timezone.now())
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "requests_app/request_list.html",
        {"filter": filterset, "page": page, "rows": rows, "query": query.urlencode(),
         "heading": _list_heading(request.user, request.GET.get("scope", "")),
         "can_file": permissions.allowed(request.user, "s2o.file_request")},
    )


@login_required
def request_export(request: SignedInRequest) -> StreamingHttpResponse:
    """The filtered list as CSV, streamed: memory stays flat however many rows match."""
    rows = selectors.request_csv_rows(_filtered(request).qs)
    return csv_export.streaming_csv_response(rows, filename=f"s2o-requests-{timezone.localdate():%Y%m%d}.csv")


def _staged_form(request: SignedInRequest, form: RequestForm) -> RequestForm:
    """Keep what the rep attached to an invalid form (valid files only) under the form's token."""
    token = request.POST.get("token")
    previous = services.staged_files(token=token, user=request.user)
    keep = set(request.POST.getlist("keep_staged"))
    uploads = [f for f in request.FILES.getlist("attachments") if check_upload(f) is None]
    try:
        staging = services.staging_add(
            token=token, user=request.user, uploads=uploads, remove=[f.key for f in previous if f.key not in keep]
        )
    except (ValueError, TypeError):
        staging = services.Staging(files=[], refused=0)
    form.set_staged(staging.files, keep_all=True)
    if staging.refused:
        messages.warning(request, f"{staging.refused} of your files were not kept: a request takes at most "
                                  f"{services.MAX_FILES_PER_REQUEST} files. Attach them again after filing if needed.")
    elif uploads:
        messages.info(request, "Your files are kept: they show as “still attached” below.")
    return form


@login_required
def request_create(request: SignedInRequest) -> HttpResponse:
    permissions.require(request.user, "s2o.file_request")
    if request.method != "POST":
        form = RequestForm(initial={"token": uuid.uuid4()})
        return render(request, "requests_app/request_form.html", {"form": form})
    staged = services.staged_files(token=request.POST.get("token"), user=request.user)
    submit = "save_draft" not in request.POST
    form = RequestForm(request.POST, request.FILES, staged=staged, draft=not submit)
    if not form.is_valid():
        return render(request, "requests_app/request_form.html", {"form": _staged_form(request, form)}, status=400)
    filed = services.request_file(
        actor=request.user, data=form.cleaned_data, token=form.cleaned_data["token"], submit=submit,
        uploads=form.cleaned_data["attachments"], staged=form.staged_to_keep(),
    )
    if not filed.created:
        messages.info(request, "This form was already sent: here is the request it filed.")
    elif submit:
        messages.success(request, f"Your request is submitted as {filed.request.reference}.")
    else:
        messages.success(request, "Draft saved. Submit it when it is ready.")
    return redirect(filed.request)


@login_required
def request_edit(request: SignedInRequest, pk: int) -> HttpResponse:
    req = get_request_for(request.user, pk)
    permissions.require(request.user, "s2o.edit_request", req)
    if not req.is_editable:  # a form that could not be saved is not shown: 403 saying why
        raise PermissionDenied(services.NOT_EDITABLE)
    if request.method != "POST":
        form = RequestForm(instance=req, initial={"token": uuid.uuid4()}, draft=req.status == Status.DRAFT)
        return render(request, "requests_app/request_form.html", {"form": form, "req": req})
    staged = services.staged_files(token=request.POST.get("token"), user=request.user)
    form = RequestForm(request.POST, request.FILES, instance=FeasibilityRequest.objects.get(pk=req.pk), staged=staged,
                       draft=req.status == Status.DRAFT)
    if form.is_valid():
        try:
            services.request_update(
                req=req, actor=request.user, data=form.cleaned_data, expected_version=form.cleaned_data["version"] or 0,
                uploads=form.cleaned_data["attachments"], staged=form.staged_to_keep(),
            )
            services.staging_clear(token=form.cleaned_data["token"], user=request.user)
            messages.success(request, "Saved.")
            return redirect(req)
        except (ConflictError, TransitionError) as exc:
            form.add_error(None, f"{exc} Your input is kept below: review the request in another tab, then save again.")
            # Saving again after that review is deliberate: it is checked against the version seen now.
            form.data = cast(QueryDict, form.data).copy()
            form.data["version"] = str(FeasibilityRequest.objects.values_list("version", flat=True).get(pk=req.pk))
        except ValidationError as exc:  # files attached in another tab meanwhile: over the limit now
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
    return render(request, "requests_app/request_form.html", {"form": _staged_form(request, form), "req": req}, status=400)


def _act(request: SignedInRequest, req: FeasibilityRequest, action: Callable[..., Any], success: str, *, form_name: str = "",
         form: BaseForm | None = None) -> HttpResponse:
    """Run one service and go back to the request page saying how it went. An illegal move is a
    message; bad input re-renders the page with the form as typed (400), nothing saved."""
    try:
        action()
    except (TransitionError, ConflictError) as exc:
        messages.error(request, str(exc))
    except ValueError as exc:
        if form is None:
            messages.error(request, str(exc))
        else:
            form.add_error(None, str(exc))
            return _detail_page(request, req, status=400, **{form_name: form})
    else:
        messages.success(request, success)
    return redirect(req)


@login_required
@require_POST
def request_submit(request: SignedInRequest, pk: int) -> HttpResponse:
    req = get_request_for(request.user, pk)
    return _act(request, req, lambda: services.request_submit(request_id=req.pk, actor=request.user),
                "Your request is submitted to Operations.")


def _detail_page(request: SignedInRequest, req: FeasibilityRequest, *, status: int = 200, **bound: Any) -> HttpResponse:
    """The request page; `bound` replaces a blank form by the one the user just sent (with its errors)."""
    user = request.user
    actions = permissions.offers(user, req)
    context = {
        "req": req,
        "promise": selectors.promise_for(req),
        "actions": actions,
        "for_sales": roles.is_sales(user),  # "we will let you know" is Sales' promise; others read it as such
        "comment_form": CommentForm(),
        "reply_form": ClarificationReplyForm(auto_id="reply_%s"),
        "withdraw_form": WithdrawForm(auto_id="withdraw_%s"),
        "close_form": CloseForm(auto_id="close_%s", status=req.status, outcomes=permissions.outcomes_offered(user, req)),
        "panels": pages.panels_for(request, req),
        **selectors.request_detail_parts(req, internals=actions["read_internals"]),
        **bound,
    }
    return render(request, "requests_app/request_detail.html", context, status=status)


@login_required
def request_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    return _detail_page(request, get_request_for(request.user, pk))


@login_required
def attachment_download(request: SignedInRequest, pk: int, attachment_pk: int) -> FileResponse:
    """Only through this view: scope-checked, served as a download, never sniffed as HTML."""
    req = get_request_for(request.user, pk)
    attachment = get_object_or_404(req.attachments, pk=attachment_pk)
    response = FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.original_name,
                            content_type=attachment.content_type or "application/octet-stream")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@login_required
@require_POST
def comment_add(request: SignedInRequest, pk: int) -> HttpResponse:
    req = get_request_for(request.user, pk)
    permissions.require(request.user, "s2o.comment_request", req)
    form = CommentForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, req, status=400, comment_form=form)
    return _act(request, req, lambda: services.comment_add(req=req, actor=request.user, body=form.cleaned_data["body"],
                                                           token=form.cleaned_data["token"]),
                "Comment added.", form_name="comment_form", form=form)


@login_required
@require_POST
def clarification_reply(request: SignedInRequest, pk: int) -> HttpResponse:
    req = get_request_for(request.user, pk)
    permissions.require(request.user, "s2o.reply_clarification", req)
    form = ClarificationReplyForm(request.POST, auto_id="reply_%s")
    if not form.is_valid():
        return _detail_page(request, req, status=400, reply_form=form)
    return _act(request, req, lambda: services.clarification_answer(request_id=req.pk, actor=request.user,
                                                                    body=form.cleaned_data["body"],
                                                                    token=form.cleaned_data["token"]),
                "Reply sent — Operations' answer clock runs again.", form_name="reply_form", form=form)


@login_required
@require_POST
def request_withdraw(request: SignedInRequest, pk: int) -> HttpResponse:
    req = get_request_for(request.user, pk)
    permissions.require(request.user, "s2o.withdraw_request", req)
    form = WithdrawForm(request.POST, auto_id="withdraw_%s")
    if not form.is_valid():
        return _detail_page(request, req, status=400, withdraw_form=form)
    return _act(request, req, lambda: services.request_withdraw(request_id=req.pk, actor=request.user,
                                                                reason=form.cleaned_data["reason"]),
                "Withdrawn.", form_name="withdraw_form", form=form)


@login_required
@require_POST
def request_close(request: SignedInRequest, pk: int) -> HttpResponse:
    req = get_request_for(request.user, pk)
    permissions.require(request.user, "s2o.close_request", req)
    form = CloseForm(request.POST, auto_id="close_%s", status=req.status,
                     outcomes=permissions.outcomes_offered(request.user, req))
    if not form.is_valid():
        return _detail_page(request, req, status=400, close_form=form)
    data = form.cleaned_data
    return _act(request, req, lambda: services.request_close(request_id=req.pk, actor=request.user, outcome=data["outcome"],
                                                             reason=data["reason"]),
                "Outcome recorded; the request is closed.", form_name="close_form", form=form)


@login_required
def notification_list(request: SignedInRequest) -> HttpResponse:
    if request.method == "POST":
        raw = request.POST.getlist("id")
        # isdecimal, not isdigit: "²" is a digit that int() refuses.
        ids = [int(i) for i in raw if i.isdecimal()]
        if len(ids) != len(raw):
            return HttpResponseBadRequest("Not a notification id.")
        notifications.mark_read(request.user, ids or None)
        return redirect("requests_app:notifications")
    page = paging.paginate(selectors.notifications_for(request.user), request.GET.get("page"), per_page=PAGE_SIZE)
    return render(request, "requests_app/notification_list.html", {"page": page})


@login_required
def notification_open(request: SignedInRequest, pk: int) -> HttpResponse:
    notification = get_object_or_404(selectors.notifications_for(request.user), pk=pk)
    notifications.mark_read(request.user, [notification.pk])
    return redirect(notification.url if url_has_allowed_host_and_scheme(notification.url, None) else "requests_app:notifications")


@login_required
def picker_search(request: HttpRequest, source: str) -> JsonResponse:
    """A picker's search as you type: at most 20 matches, for the people who see the field."""
    found = pickers.SOURCES.get(source)
    if found is None:
        raise Http404("No such list.")
    permissions.require(request.user, found.permission)
    return JsonResponse({"results": pickers.search(found, request.GET.get("q", ""))})


@login_required
def preferences(request: SignedInRequest) -> HttpResponse:
    profile, _ = Profile.objects.get_or_create(user=request.user)
    form = PreferencesForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        services.profile_update(actor=request.user, **form.cleaned_data)
        messages.success(request, "Preferences saved.")
        return redirect("requests_app:preferences")
    return render(request, "requests_app/preferences.html", {"form": form})


@login_required
@require_POST
def request_file_again(request: SignedInRequest, pk: int) -> HttpResponse:
    """"File again": a new draft copied from this request, opened for editing."""
    req = get_request_for(request.user, pk)
    permissions.require(request.user, "s2o.copy_request", req)
    copy = services.request_copy(request_id=req.pk, actor=request.user)
    messages.success(request, f"A new draft copied from {req.reference}: check it and submit it.")
    return redirect("requests_app:edit", copy.pk)
