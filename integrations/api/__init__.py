"""The REST API under /api/v1/ (Django REST framework): a door onto the same services as the pages.

Views parse with a serializer, fetch with the same scoping as the pages (404 for what the caller may
not see), call one service with `actor=` and answer; `errors.exception_handler` turns the services'
refusals into HTTP: `NotAllowed` 403, a stale `version` 409, an illegal move 409, a business rule
400 naming the field. Authentication: a personal token (`Authorization: Bearer s2o_…`,
integrations.authentication) or the browser's session.
"""
