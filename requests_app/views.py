from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse

from requests_app import roles


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send each role to its work; a user with no role yet gets a page that says so."""
    user = request.user
    for allowed, url_name in (
        (roles.is_manager, "analysis:dashboard"),
        (roles.is_ops_lead, "analysis:triage"),
        (roles.is_ops, "analysis:department_queue"),
        (roles.is_sales, "requests_app:list"),
    ):
        if allowed(user):
            try:
                return redirect(reverse(url_name))
            except NoReverseMatch:
                continue
    return render(request, "home.html")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # No context processors: the database may be what failed.
    from django.template import loader

    return HttpResponse(loader.get_template("500.html").render(), status=500)
