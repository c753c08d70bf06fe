"""Roles, login, the home page that sends each role to its work, the navigation per role, and
the error pages."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

# Where `home` sends each persona.
LANDING = {
    "manager": "analysis:dashboard",
    "ops_lead": "analysis:triage",
    "ops_member": "analysis:department_queue",
    "stores_member": "analysis:department_queue",
    "rep": "requests_app:my_work",
    "sales_manager": "requests_app:my_work",
}

# The navigation each persona sees (labels registered with requests_app.pages.register_link).
NAVIGATION = {
    "rep": {"My work", "My requests", "New request"},
    "sales_manager": {"My work", "My requests", "New request"},
    # Improvement actions: Operations reads them, leads and managers open and move them.
    "ops_member": {"My department", "Improvements"},
    "stores_member": {"My department", "Improvements"},
    "ops_lead": {"Triage", "My department", "All requests", "Improvements"},
    "manager": {"All requests", "Dashboard", "SLA policies", "Webhooks", "Improvements"},
    "nobody": set(),
}
NAV_LINK = re.compile(r'<a class="nav-link(?: active)?" href="([^"]+)"[^>]*>([^<]+)</a>')


def logged_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next=/"


@pytest.mark.django_db
def test_the_login_page_renders_with_a_form(client):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    assert b'name="username"' in response.content
    assert b'name="password"' in response.content


@pytest.mark.django_db
def test_login_with_a_wrong_password_shows_an_error_and_keeps_the_username(client, rep):
    response = client.post(reverse("login"), {"username": rep.username, "password": "wrong"})

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert f'value="{rep.username}"' in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_login_with_the_right_password_goes_home(client, rep):
    response = client.post(reverse("login"), {"username": rep.username, "password": "pw-" + rep.username})

    assert response.status_code == 302
    assert response["Location"] == reverse("home")


@pytest.mark.django_db
def test_logout_is_a_post_and_ends_the_session(client, rep):
    logged_in(client, rep)

    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_password_change_page_renders_for_a_logged_in_user(client, rep):
    response = logged_in(client, rep).get(reverse("password_change"))

    assert response.status_code == 200
    assert b'name="old_password"' in response.content


@pytest.mark.parametrize("persona", sorted(LANDING))
@pytest.mark.django_db
def test_home_sends_each_role_to_its_work(client, request, persona):
    user = request.getfixturevalue(persona)

    response = logged_in(client, user).get("/")

    assert response.status_code == 302
    assert response["Location"] == reverse(LANDING[persona])


@pytest.mark.django_db
def test_a_superuser_lands_where_a_manager_does(client):
    admin = User.objects.create_superuser("root", "root@example.com", "pw")

    response = logged_in(client, admin).get("/")

    assert response.status_code == 302
    assert response["Location"] == reverse("analysis:dashboard")


@pytest.mark.django_db
def test_a_user_without_a_role_is_told_so_on_the_home_page(client, nobody):
    response = logged_in(client, nobody).get("/")

    assert response.status_code == 200
    assert "no role yet" in response.content.decode()


@pytest.mark.parametrize("persona", sorted(NAVIGATION))
@pytest.mark.django_db
def test_the_navigation_shows_each_role_only_its_own_links(client, request, persona):
    user = request.getfixturevalue(persona)

    response = logged_in(client, user).get(reverse("password_change"))

    shown = {label.strip() for _, label in NAV_LINK.findall(response.content.decode())}
    assert shown == NAVIGATION[persona]


@pytest.mark.parametrize("persona", sorted(NAVIGATION))
@pytest.mark.django_db
def test_every_page_in_a_roles_navigation_renders_for_that_role(client, request, persona):
    user = request.getfixturevalue(persona)
    logged_in(client, user)
    links = NAV_LINK.findall(client.get(reverse("password_change")).content.decode())

    for url, label in links:
        response = client.get(url)
        assert response.status_code == 200, f"{persona}: {label.strip()} ({url}) answered {response.status_code}"


@pytest.mark.urls("tests.s2o.urls_errors")
@pytest.mark.django_db
def test_a_forbidden_action_shows_the_403_page(client, rep):
    response = logged_in(client, rep).get("/test-only/forbidden/")

    assert response.status_code == 403
    assert "403 — not allowed" in response.content.decode()
    assert "Back to my work" in response.content.decode()


@pytest.mark.django_db
def test_an_unknown_address_shows_the_404_page(client, rep, settings):
    settings.DEBUG = False

    response = logged_in(client, rep).get("/no-such-page/")

    assert response.status_code == 404
    assert "404 — not found" in response.content.decode()


@pytest.mark.urls("tests.s2o.urls_errors")
@pytest.mark.django_db
def test_a_crash_shows_the_500_page_without_inline_styles(rep, settings):
    settings.DEBUG = False
    client = Client(raise_request_exception=False)

    response = logged_in(client, rep).get("/test-only/broken/")

    assert response.status_code == 500
    body = response.content.decode()
    assert "500 — something went wrong on our side" in body
    assert "style=" not in body  # the CSP forbids inline styles
