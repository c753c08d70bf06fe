"""Calling the API as a persona: with a personal token (as a CRM does) or a browser session."""

from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient

from integrations import services


def token_for(user, name: str = "CRM sync") -> str:
    return services.token_create(actor=user, name=name)[1]


def api(user=None, *, token: str | None = None) -> APIClient:
    """An API client with `user`'s token (a new one unless `token` is given); anonymous without either."""
    client = APIClient()
    if user is not None or token is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token or token_for(user)}")
    return client


def results(response: Any) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def references(response: Any) -> set[str]:
    return {row["reference"] or f"draft:{row['id']}" for row in results(response)}
