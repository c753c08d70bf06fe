"""API tokens: created and revoked by their owner in Preferences, shown once, stored as a prefix and
a hash only, and accepted by the API's authentication until revoked."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.test import Client

from integrations.models import ApiToken

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.integrations.urls_api")]

TOKEN = re.compile(r'value="(s2o_[a-z0-9]{10}_[A-Za-z0-9_-]{43})"')


def create_token(client: Client, user, name: str = "CRM sync") -> str:
    client.force_login(user)
    response = client.post("/integrations/tokens/new/", {"name": name})
    assert response.status_code == 200
    return TOKEN.search(response.content.decode()).group(1)


def api(token: str | None = None, scheme: str = "Bearer"):
    headers = {"HTTP_AUTHORIZATION": f"{scheme} {token}"} if token else {}
    return Client().get("/api/v1/whoami/", **headers)


def test_the_preferences_page_offers_to_create_a_token(client, rep):
    client.force_login(rep)
    page = client.get("/requests/preferences/").content.decode()
    assert "API tokens" in page
    assert 'action="/integrations/tokens/new/"' in page


def test_a_new_token_is_shown_once_and_only_its_prefix_and_hash_are_stored(client, rep):
    client.force_login(rep)
    response = client.post("/integrations/tokens/new/", {"name": "CRM sync"})
    raw = TOKEN.search(response.content.decode()).group(1)
    assert "no-store" in response["Cache-Control"]

    token = ApiToken.objects.get(user=rep)
    assert token.name == "CRM sync"
    assert raw.startswith(f"s2o_{token.prefix}_")
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    secret_part = raw.rsplit("_", 1)[1]
    stored = " ".join(str(value) for value in ApiToken.objects.filter(pk=token.pk).values().first().values())
    assert secret_part not in stored

    later = client.get("/requests/preferences/").content.decode()
    assert raw not in later and secret_part not in later
    assert f"s2o_{token.prefix}_…" in later and "CRM sync" in later


def test_the_api_accepts_the_token_as_its_user_and_notes_when_it_was_used(client, rep):
    raw = create_token(client, rep)

    response = api(raw)
    assert response.status_code == 200
    assert response.json() == {"username": "rita", "token": "CRM sync"}
    assert ApiToken.objects.get(user=rep).last_used_at is not None
    assert api(raw, scheme="Token").status_code == 200


def test_a_revoked_token_no_longer_opens_the_api(client, rep):
    raw = create_token(client, rep)
    token = ApiToken.objects.get(user=rep)

    response = client.post(f"/integrations/tokens/{token.pk}/revoke/")
    assert response.status_code == 302 and response["Location"] == "/requests/preferences/"
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None

    refused = api(raw)
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"] == 'Bearer realm="api"'
    assert "revoked" in refused.json()["detail"]


@pytest.mark.parametrize("mangle", [
    lambda raw: raw[:-1] + ("A" if raw[-1] != "A" else "B"),  # right prefix, wrong secret
    lambda raw: "s2o_zzzzzzzzzz_" + raw.rsplit("_", 1)[1],      # unknown prefix
    lambda raw: raw.replace("s2o_", "xyz_", 1),                  # not one of ours
    lambda raw: "Bearer",                                        # nonsense
])
def test_a_forged_or_altered_token_is_refused(client, rep, mangle):
    raw = create_token(client, rep)
    assert api(mangle(raw)).status_code == 401


def test_a_token_of_a_deactivated_user_is_refused(client, rep):
    raw = create_token(client, rep)
    rep.is_active = False
    rep.save(update_fields=["is_active"])
    assert api(raw).status_code == 401


def test_without_a_token_or_session_the_api_answers_not_authenticated():
    assert api().status_code == 401


def test_nobody_can_revoke_someone_elses_token(client, rep, teammate):
    create_token(client, rep)
    token = ApiToken.objects.get(user=rep)
    client.force_login(teammate)

    assert client.post(f"/integrations/tokens/{token.pk}/revoke/").status_code == 404
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


@pytest.mark.parametrize(("name", "message"), [
    ("   ", "This field is required."),
    ("x" * 101, "At most 100 characters (this name has 101)."),
])
def test_a_bad_name_is_explained_and_kept_and_no_token_is_made(client, rep, name, message):
    client.force_login(rep)
    response = client.post("/integrations/tokens/new/", {"name": name})

    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    if name.strip():
        assert f'value="{name}"' in page
    assert not ApiToken.objects.exists()


def test_creating_and_revoking_tokens_needs_a_login_and_a_post(client, rep):
    assert client.post("/integrations/tokens/new/", {"name": "x"}).status_code == 302  # to the login page
    client.force_login(rep)
    assert client.get("/integrations/tokens/new/").status_code == 405
    assert not ApiToken.objects.exists()
