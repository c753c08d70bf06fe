"""Writes on a request from Sales' side (and the clarification round-trip with Operations).

Every action is keyword-only, takes the acting user as `actor`, asks the rulebook
(`permissions.require`) before it changes anything, runs in one transaction and changes state only
through `lifecycle.transition`; notifications are rows written in the same transaction (their
e-mail copies are enqueued after commit by `notifications.notify`). Nothing here imports `analysis`.
"""

from __future__ import annotations

import json
import uuid
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from requests_app import lifecycle, permissions, roles, search
from requests_app.lifecycle import ConflictError, TransitionError
from requests_app.models import (
    Attachment,
    Comment,
    Customer,
    FeasibilityRequest,
    Outcome,
    Product,
    Profile,
    ReferenceCounter,
    RequestEvent,
    Role,
    SalesTeam,
    Status,
)
from requests_app.notifications import notify
from requests_app.roles import Actor

if TYPE_CHECKING:
    from django.contrib.auth.models import User

Kind = RequestEvent.Kind

# Fields of the filing form that map 1:1 onto the request row.
REQUEST_FIELDS = (
    "title",
    "product",
    "part_description",
    "quantity",
    "unit",
    "requested_date",
    "target_price",
    "deal_value",
    "currency",
    "priority",
    "description",
)
# Once submitted, the SLA clocks were computed from the priority: it is fixed from then on.
SUBMITTED_LOCKED_FIELDS = ("priority",)
NOT_EDITABLE = "Operations has acknowledged this request: it can no longer be edited. Add a comment instead."

__all__ = ["ConflictError", "TransitionError"]


# ---------------------------------------------------------------------------------------------
# People to tell


def routed_members(req: FeasibilityRequest) -> QuerySet[User]:
    """Members of the departments the request is routed to (through `analysis`'s assessments,
    by relation name only: no import of `analysis`)."""
    return get_user_model().objects.filter(departments__assessments__request=req, is_active=True).distinct()


def sales_side(req: FeasibilityRequest) -> QuerySet[User]:
    """The requester and the sales managers of the request's team."""
    users = get_user_model().objects.filter(pk=req.requested_by_id)
    if req.sales_team_id:
        users = users | get_user_model().objects.filter(sales_teams=req.sales_team_id, groups__name=Role.SALES_MANAGER)
    return users.filter(is_active=True).distinct()


# ---------------------------------------------------------------------------------------------
# References


def reference_year(now: datetime) -> int:
    return timezone.localtime(now, zoneinfo.ZoneInfo(settings.TIME_ZONE)).year


def reference_next(*, now: datetime) -> str:
    """Next human reference, e.g. S2O-2026-00042: gap-free and unique under concurrency.

    The year's counter row is created with INSERT … ON CONFLICT DO NOTHING (two first-of-the-year
    submissions cannot both create it) and then locked for the rest of the caller's transaction,
    so concurrent submissions take numbers one after the other; a rolled-back submission gives
    its number back.
    """
    year = reference_year(now)
    ReferenceCounter.objects.bulk_create([ReferenceCounter(year=year, last=0)], ignore_conflicts=True)
    counter = ReferenceCounter.objects.select_for_update().get(year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"S2O-{year}-{counter.last:05d}"


# ---------------------------------------------------------------------------------------------
# Staged uploads (form plumbing, not an action on a request, keyed by the uploading `user`): files
# attached to a form that failed validation are kept (in storage, under staging/<user>/<form token>/)
# and shown as "still attached", so the rep never attaches twice.
# They go through the storage API (local disk or an S3-compatible bucket), whose "folders" are only
# key prefixes: a missing folder lists as empty, never as an error.

# One request takes at most this many files (the filing form says so).
MAX_FILES_PER_REQUEST = 10
# What one user may keep staged over all their unfinished forms: one full form and a bit more. An
# invalid form kept up to 100 files of 10 MB per POST, and every new token started a new folder.
STAGED_FILES_PER_USER = 20
STAGED_BYTES_PER_USER = 100 * 1024 * 1024


@dataclass(frozen=True)
class StagedFile:
    key: str
    name: str
    size: int
    content_type: str
    path: str


@dataclass(frozen=True)
class Staging:
    files: list[StagedFile]
    refused: int  # uploads not kept: over the request's or the user's limit


def _staging_dir(token: uuid.UUID | str | None, user: Actor) -> str:
    return f"staging/{int(user.pk)}/{uuid.UUID(str(token)).hex}"


def _staging_index(token: uuid.UUID | str | None, user: Actor) -> str:
    return f"{_staging_dir(token, user)}/index.json"


def _listdir(path: str) -> tuple[list[str], list[str]]:
    try:
        return default_storage.listdir(path)
    except FileNotFoundError:
        return [], []


def _read_index(path: str) -> dict:
    try:
        with default_storage.open(path, "rb") as fh:
            return json.loads(fh.read().decode())
    except (FileNotFoundError, ValueError):
        return {}


def staged_files(*, token: uuid.UUID | str | None, user: Actor) -> list[StagedFile]:
    """Files staged under this form token by this user (someone else's token shows nothing)."""
    try:
        path = _staging_index(token, user)
    except (ValueError, TypeError, AttributeError):
        return []
    index = _read_index(path) if default_storage.exists(path) else {}
    if index.get("user") != getattr(user, "pk", None):
        return []
    return [StagedFile(**item) for item in index.get("files", [])]


def _staged_elsewhere(*, token: uuid.UUID | str | None, user: Actor) -> tuple[int, int]:
    """(files, bytes) this user keeps staged under their other form tokens."""
    files = size = 0
    own = uuid.UUID(str(token)).hex
    for name in _listdir(f"staging/{int(user.pk)}")[0]:
        if name != own:
            staged = _read_index(f"staging/{int(user.pk)}/{name}/index.json").get("files", [])
            files, size = files + len(staged), size + sum(item.get("size", 0) for item in staged)
    return files, size


def _write_staging_index(token: uuid.UUID | str | None, user: Actor, files: Sequence[StagedFile]) -> None:
    path = _staging_index(token, user)
    if default_storage.exists(path):
        default_storage.delete(path)
    if files:  # no index for an empty set: a folder per empty POST would grow the listing above
        payload = {"user": user.pk, "files": [f.__dict__ for f in files]}
        default_storage.save(path, ContentFile(json.dumps(payload).encode()))


def staging_add(
    *, token: uuid.UUID | str | None, user: Actor, uploads: Iterable[UploadedFile], remove: Iterable[str] = (),
) -> Staging:
    """Keep valid uploads of an invalid form (and drop the ones the rep unticked), up to the
    request's file limit and the user's staged total; the rest is refused, not stored."""
    remove = set(remove)
    previous = staged_files(token=token, user=user)
    kept = [f for f in previous if f.key not in remove]
    for f in previous:
        if f.key in remove:
            default_storage.delete(f.path)
    other_files, other_bytes = _staged_elsewhere(token=token, user=user)
    room_files = min(MAX_FILES_PER_REQUEST, STAGED_FILES_PER_USER - other_files) - len(kept)
    room_bytes = STAGED_BYTES_PER_USER - other_bytes - sum(f.size for f in kept)
    refused = 0
    for upload in uploads:
        size = upload.size or 0
        if room_files <= 0 or size > room_bytes:
            refused += 1
            continue
        key = uuid.uuid4().hex
        name = upload.name or ""
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else "bin"
        upload.seek(0)
        path = default_storage.save(f"{_staging_dir(token, user)}/{key}.{ext}", upload)
        kept.append(
            StagedFile(
                key=key,
                name=name,
                size=size,
                content_type=getattr(upload, "content_type", "") or "application/octet-stream",
                path=path,
            )
        )
        room_files, room_bytes = room_files - 1, room_bytes - size
    _write_staging_index(token, user, kept)
    return Staging(files=kept, refused=refused)


def _clear_folder(directory: str) -> None:
    for name in _listdir(directory)[1]:
        default_storage.delete(f"{directory}/{name}")


def _abandoned(directory: str, older_than: datetime) -> bool:
    index = f"{directory}/index.json"
    return not default_storage.exists(index) or default_storage.get_modified_time(index) < older_than


def staging_purge(*, older_than: datetime) -> int:
    """Drop files staged by forms that were abandoned (never submitted); returns how many forms.
    Meant for a periodic job; staged files are otherwise removed when their form files."""
    purged = 0
    for name in _listdir("staging")[0]:
        # staging/<user>/<token>/, and staging/<token>/ as kept before the per-user folders.
        folders = [f"staging/{name}/{token}" for token in _listdir(f"staging/{name}")[0]] if name.isdecimal() \
            else [f"staging/{name}"]
        for directory in folders:
            if _abandoned(directory, older_than):
                _clear_folder(directory)
                purged += 1
    return purged


def staging_clear(*, token: uuid.UUID | str | None, user: Actor) -> None:
    try:
        directory = _staging_dir(token, user)
    except (ValueError, TypeError, AttributeError):
        return
    _clear_folder(directory)


# ---------------------------------------------------------------------------------------------
# Filing, editing, submitting


def customer_resolve(*, customer: Customer | None, new_customer_name: str = "", required: bool = True) -> Customer | None:
    """The picked customer, or one found/created by name (case-insensitively); None for a draft
    (`required=False`) that names none yet."""
    if customer is not None:
        return customer
    name = " ".join(new_customer_name.split())
    if not name and not required:
        return None
    if not name:
        raise ValueError("Pick a customer or type the name of a new one.")
    existing = Customer.objects.filter(name__iexact=name).first()
    if existing:
        return existing
    try:
        with transaction.atomic():
            return Customer.objects.create(name=name)
    except IntegrityError:  # created by someone else a moment ago
        return Customer.objects.get(name__iexact=name)


def customer_create(*, actor: Actor, name: str, code: str = "") -> Customer:
    """A new customer (master data). Names are unique whatever their case, as `customer_resolve`
    finds them; an ERP code, when given, is unique too."""
    permissions.require(actor, "s2o.add_customer")
    name, code = " ".join(name.split()), code.strip()
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "Give the customer's name."
    elif Customer.objects.filter(name__iexact=name).exists():
        errors["name"] = f"A customer named “{name}” exists already."
    if code and Customer.objects.filter(code=code).exists():
        errors["code"] = f"Another customer has the ERP code “{code}”."
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            return Customer.objects.create(name=name, code=code)
    except IntegrityError:  # the same name or code, created a moment ago
        raise ValidationError({"name": f"A customer named “{name}” or with code “{code}” exists already."}) from None


def product_create(*, actor: Actor, sku: str, name: str, unit: str = "pcs") -> Product:
    """A new catalogue part (master data); its part number is unique."""
    permissions.require(actor, "s2o.add_product")
    sku, name, unit = sku.strip(), " ".join(name.split()), unit.strip() or "pcs"
    errors: dict[str, str] = {}
    if not sku:
        errors["sku"] = "Give the part number."
    elif Product.objects.filter(sku__iexact=sku).exists():
        errors["sku"] = f"The part number “{sku}” is in the catalogue already."
    if not name:
        errors["name"] = "Give the part's name."
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            return Product.objects.create(sku=sku, name=name, unit=unit)
    except IntegrityError:
        raise ValidationError({"sku": f"The part number “{sku}” is in the catalogue already."}) from None


def attachments_add(
    *,
    req: FeasibilityRequest,
    actor: Actor,
    uploads: Iterable[UploadedFile] = (),
    staged: Iterable[StagedFile] = (),
    now: datetime | None = None,
) -> list[Attachment]:
    """Store files under generated names (Attachment.file's upload_to); the original name is metadata.
    Attaching is editing: the author or their sales manager, while the request is editable."""
    now = now or timezone.now()
    permissions.require(actor, "s2o.edit_request", req)
    if not req.is_editable:
        raise TransitionError(NOT_EDITABLE)
    uploads, staged = list(uploads), list(staged)
    attached = req.attachments.count()
    if attached + len(uploads) + len(staged) > MAX_FILES_PER_REQUEST:
        raise ValidationError({"attachments": f"At most {MAX_FILES_PER_REQUEST} files per request: this one has {attached}."})
    created = []
    for upload in uploads:
        upload.seek(0)
        attachment = Attachment(
            request=req,
            original_name=(upload.name or "")[:255],
            content_type=(getattr(upload, "content_type", "") or "application/octet-stream")[:100],
            size=upload.size or 0,
            uploaded_by=actor,
            uploaded_at=now,
        )
        attachment.file.save(upload.name, upload, save=False)
        attachment.save()
        created.append(attachment)
    for item in staged:
        with default_storage.open(item.path, "rb") as fh:
            attachment = Attachment(
                request=req,
                original_name=item.name[:255],
                content_type=item.content_type[:100],
                size=item.size,
                uploaded_by=actor,
                uploaded_at=now,
            )
            attachment.file.save(item.name, ContentFile(fh.read()), save=False)
        attachment.save()
        created.append(attachment)
    if created and req.status != Status.DRAFT:
        lifecycle.record_event(
            req, kind=Kind.ATTACHMENT_ADDED, actor=actor, now=now, message=", ".join(a.original_name for a in created)
        )
    return created


def _sales_team_of(user: Actor) -> SalesTeam | None:
    return SalesTeam.objects.filter(members=user).order_by("pk").first()


@dataclass(frozen=True)
class Filed:
    request: FeasibilityRequest
    created: bool  # False: the token was used before, this is the request filed then


def request_file(
    *,
    actor: Actor,
    data: dict,
    token: uuid.UUID,
    submit: bool,
    uploads: Sequence[UploadedFile] = (),
    staged: Sequence[StagedFile] = (),
    now: datetime | None = None,
) -> Filed:
    """File a new request (as a draft, or submitted at once) from the filing form's cleaned data.

    The form's one-time `token` is stored unique on the row: a double click or a resubmitted form
    returns the request filed the first time instead of filing twice — also when the two POSTs
    race (the second insert fails on the unique constraint and finds the first).
    """
    now = now or timezone.now()
    permissions.require(actor, "s2o.file_request")
    existing = FeasibilityRequest.objects.filter(submit_token=token).first()
    if existing is not None:
        return _already_filed(existing, actor)
    try:
        with transaction.atomic():
            customer = customer_resolve(customer=data.get("customer"), new_customer_name=data.get("new_customer", ""),
                                        required=submit)
            req = FeasibilityRequest(
                customer=customer,
                requested_by=actor,
                sales_team=_sales_team_of(actor),
                status=Status.DRAFT,
                created_at=now,
                submit_token=token,
                **{name: data[name] for name in REQUEST_FIELDS if name in data},
            )
            if not req.unit and req.product is not None:
                req.unit = req.product.unit
            req.save()
            attachments_add(req=req, actor=actor, uploads=uploads, staged=staged, now=now)
            lifecycle.record_event(req, kind=Kind.CREATED, actor=actor, now=now)
            if submit:
                req = request_submit(request_id=req.pk, actor=actor, now=now)
            else:
                search.index_requests([req.pk])
    except IntegrityError:
        existing = FeasibilityRequest.objects.filter(submit_token=token).first()
        if existing is None:
            raise
        return _already_filed(existing, actor)
    staging_clear(token=token, user=actor)
    return Filed(req, True)


def _already_filed(existing: FeasibilityRequest, actor: Actor) -> Filed:
    if existing.requested_by_id != actor.pk:  # a token is a random UUID: never someone else's
        raise permissions.NotAllowed("This form was already used.")
    return Filed(existing, False)


def _and_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def request_submit(
    *, request_id: int, actor: Actor, now: datetime | None = None, expected_version: int | None = None
) -> FeasibilityRequest:
    """DRAFT → SUBMITTED: give it its reference, start the clocks, tell the Operations leads."""
    now = now or timezone.now()
    with transaction.atomic():
        req = lifecycle.lock(request_id)
        permissions.require(actor, "s2o.submit_request", req)
        lifecycle.check_transition(req.status, Status.SUBMITTED, Kind.SUBMITTED)
        if missing := req.missing_for_submission():
            raise ValueError(f"Before submitting, fill in {_and_list(missing)}: edit the draft.")
        reference = reference_next(now=now)
        moved = lifecycle.transition(
            request_id,
            to=Status.SUBMITTED,
            kind=Kind.SUBMITTED,
            actor=actor,
            now=now,
            expected_version=expected_version,
            fields={"reference": reference, "submitted_at": now, "submit_token": req.submit_token or uuid.uuid4()},
        )
        req = moved.request
        notify(
            roles.ops_leads(),
            kind="submitted",
            message=f"{reference} submitted by {actor.get_full_name() or actor.username}: {req.title}",
            request=req,
            email_template="notification",
            exclude=actor,
            now=now,
        )
    return req


def request_update(
    *,
    req: FeasibilityRequest,
    actor: Actor,
    data: dict,
    expected_version: int,
    uploads: Sequence[UploadedFile] = (),
    staged: Sequence[StagedFile] = (),
    now: datetime | None = None,
) -> FeasibilityRequest:
    """Edit a draft, or a submitted request before Operations acknowledged it.

    The version is checked under the request's row lock (`lifecycle.check_version`): of two
    people saving the same version, the second gets a ConflictError and keeps their input.
    """
    now = now or timezone.now()
    with transaction.atomic():
        current = lifecycle.lock(req.pk)
        permissions.require(actor, "s2o.edit_request", current)
        lifecycle.check_version(current, expected_version)
        if not current.is_editable:
            raise TransitionError(NOT_EDITABLE)
        current.version += 1
        changed: list[str] = []
        customer = customer_resolve(customer=data.get("customer"), new_customer_name=data.get("new_customer", ""),
                                    required=current.status != Status.DRAFT)
        if current.customer_id != getattr(customer, "pk", None):
            current.customer = customer
            changed.append("customer")
        for name in REQUEST_FIELDS:
            if name not in data or (current.status != Status.DRAFT and name in SUBMITTED_LOCKED_FIELDS):
                continue
            if getattr(current, name) != data[name]:
                setattr(current, name, data[name])
                changed.append(name)
        current.save(update_fields=[*changed, "version", "updated_at"])
        search.index_requests([current.pk])
        attachments_add(req=current, actor=actor, uploads=uploads, staged=staged, now=now)
        if current.status != Status.DRAFT and changed:
            lifecycle.record_event(current, kind=Kind.EDITED, actor=actor, now=now, data={"fields": changed})
            notify(
                roles.ops_leads(),
                kind="edited",
                message=f"{current.reference} was edited by Sales ({', '.join(changed)})",
                request=current,
                exclude=actor,
                now=now,
            )
        current.refresh_from_db()
    return current


def request_copy(*, request_id: int, actor: Actor, now: datetime | None = None) -> FeasibilityRequest:
    """"File again": a new draft of the actor's with what an earlier request asked, for when what
    blocked it has changed. A requested date already past moves as far ahead of today as it was
    ahead of the original's filing (at least a week)."""
    now = now or timezone.now()
    original = FeasibilityRequest.objects.select_related("product").get(pk=request_id)
    permissions.require(actor, "s2o.file_request")
    permissions.require(actor, "s2o.copy_request", original)
    today = timezone.localdate(now)
    requested = original.requested_date
    if requested is not None and requested <= today:
        filed = timezone.localdate(original.submitted_at or original.created_at)
        requested = today + max(requested - filed, timedelta(days=7))
    with transaction.atomic():
        copy = FeasibilityRequest(
            customer=original.customer, requested_by=actor, sales_team=_sales_team_of(actor), status=Status.DRAFT,
            created_at=now, **{name: getattr(original, name) for name in REQUEST_FIELDS},
        )
        copy.requested_date = requested
        if original.reference:
            copy.description = f"{original.description}\n\nFiled again from {original.reference}.".strip()
        copy.save()
        lifecycle.record_event(copy, kind=Kind.CREATED, actor=actor, now=now,
                               message=f"Filed again from {original.reference}" if original.reference else "")
        search.index_requests([copy.pk])
    return copy


# ---------------------------------------------------------------------------------------------
# Conversation


def _comment_sent_before(token: uuid.UUID | None, actor: Actor) -> Comment | None:
    """The comment this form token already stored (a double click, a retried POST), if any."""
    if token is None:
        return None
    earlier = Comment.objects.filter(token=token).first()
    if earlier is not None and earlier.author_id != actor.pk:  # a token is a random UUID: never someone else's
        raise permissions.NotAllowed("This form was already used.")
    return earlier


def comment_add(
    *, req: FeasibilityRequest, actor: Actor, body: str, token: uuid.UUID | None = None, now: datetime | None = None
) -> Comment:
    """A plain comment; the other side is told (Sales ↔ Operations). A closed request takes none.

    With the form's one-time `token`, the same form sent twice stores one comment and tells once,
    also when the two POSTs race (the second insert fails on the unique token and finds the first)."""
    now = now or timezone.now()
    permissions.require(actor, "s2o.comment_request", req)
    if (earlier := _comment_sent_before(token, actor)) is not None:
        return earlier
    body = body.strip()
    if not body:
        raise ValueError("Write something first.")
    if req.status == Status.CLOSED:
        raise TransitionError("This request is closed: it takes no more comments.")
    try:
        return _comment_store(req=req, actor=actor, body=body, token=token, now=now)
    except IntegrityError:
        if (earlier := _comment_sent_before(token, actor)) is None:
            raise
        return earlier


def _comment_store(*, req: FeasibilityRequest, actor: Actor, body: str, token: uuid.UUID | None, now: datetime) -> Comment:
    with transaction.atomic():
        comment = Comment.objects.create(request=req, author=actor, kind=Comment.Kind.COMMENT, body=body, created_at=now,
                                         token=token)
        search.index_requests([req.pk])
        lifecycle.record_event(req, kind=Kind.COMMENTED, actor=actor, now=now, message=body[:500])
        if req.status != Status.DRAFT:
            audience = list(sales_side(req)) + list(roles.ops_leads()) + list(routed_members(req))
            notify(
                audience,
                kind="comment",
                message=f"{actor.get_full_name() or actor.username} commented on {req.reference}: {body[:200]}",
                request=req,
                email_template="notification",
                exclude=actor,
                now=now,
            )
    return comment


def clarification_ask(
    *, request_id: int, actor: Actor, question: str, now: datetime | None = None, expected_version: int | None = None
) -> FeasibilityRequest:
    """Operations asks Sales a question: the request waits on Sales and its answer clock pauses
    (`clocks.on_transition` opens a Pause row)."""
    now = now or timezone.now()
    question = question.strip()
    with transaction.atomic():
        permissions.require(actor, "s2o.ask_clarification", lifecycle.lock(request_id))
        if not question:
            raise ValueError("Write the question for Sales.")
        moved = lifecycle.transition(
            request_id,
            to=Status.WAITING_ON_SALES,
            kind=Kind.CLARIFICATION_ASKED,
            actor=actor,
            now=now,
            expected_version=expected_version,
            message=question,
        )
        req = moved.request
        Comment.objects.create(request=req, author=actor, kind=Comment.Kind.QUESTION, body=question, created_at=now)
        search.index_requests([req.pk])
        notify(
            sales_side(req),
            kind="clarification_asked",
            message=f"Operations asks about {req.reference}: {question[:200]}",
            request=req,
            email_template="notification",
            exclude=actor,
            now=now,
        )
    return req


def clarification_answer(
    *, request_id: int, actor: Actor, body: str, token: uuid.UUID | None = None, now: datetime | None = None
) -> FeasibilityRequest:
    """Sales replies: back to where the question came from (SUBMITTED or IN_ANALYSIS), and the
    answer clock resumes with answer_due moved by the paused business time. The same reply form
    sent twice (`token`) is stored once; the second gets the request as the first left it."""
    now = now or timezone.now()
    body = body.strip()
    with transaction.atomic():
        req = lifecycle.lock(request_id)  # a racing second POST waits here, then finds the first reply
        if _comment_sent_before(token, actor) is not None:
            return req
        permissions.require(actor, "s2o.reply_clarification", req)
        if not body:
            raise ValueError("Write your reply.")
        if req.status != Status.WAITING_ON_SALES:
            raise TransitionError("Operations is not waiting for a clarification on this request.")
        asked = req.events.filter(to_status=Status.WAITING_ON_SALES).order_by("-at", "-id").first()
        back_to = asked.from_status if asked and asked.from_status else Status.IN_ANALYSIS
        moved = lifecycle.transition(
            request_id, to=back_to, kind=Kind.CLARIFICATION_ANSWERED, actor=actor, now=now, message=body
        )
        req = moved.request
        Comment.objects.create(request=req, author=actor, kind=Comment.Kind.REPLY, body=body, created_at=now, token=token)
        search.index_requests([req.pk])
        asker = [asked.actor] if asked and asked.actor else []
        notify(
            [*asker, *roles.ops_leads(), *routed_members(req)],
            kind="clarification_answered",
            message=f"Sales answered the question on {req.reference}: {body[:200]}",
            request=req,
            email_template="notification",
            exclude=actor,
            now=now,
        )
    return req


# ---------------------------------------------------------------------------------------------
# Closing

# Who may close with each outcome (all of them Sales' side: the author or their sales manager).
CLOSE_PERMISSIONS: dict[str, str] = {
    Outcome.LOST: "s2o.close_request",
    Outcome.EVAPORATED: "s2o.close_request",
    Outcome.WITHDRAWN: "s2o.withdraw_request",
    Outcome.WON: "s2o.decide_answer",
    Outcome.DECLINED: "s2o.decide_answer",
    Outcome.ALTERNATIVE_ACCEPTED: "s2o.accept_alternative",
}
# Outcomes that are decisions on the answer: only `analysis.decisions` records them, with their kind.
ON_THE_ANSWER: dict[str, str] = {
    Outcome.WON: "Accept the answer to record the request as won: only a yes is won as asked.",
    Outcome.ALTERNATIVE_ACCEPTED: "Accept one of the alternatives on the answer: that records which one was taken.",
    Outcome.DECLINED: "Decline on the answer: that records which answer and alternatives were declined.",
}
REASON_NEEDED: dict[str, str] = {
    Outcome.DECLINED: "Say why the answer and its alternatives do not work for the customer.",
    Outcome.LOST: "Say what happened: Operations has not answered yet, and the people working on it will read why "
                  "they can stop.",
    Outcome.EVAPORATED: "Say what happened: Operations has not answered yet, and the people working on it will read "
                        "why they can stop.",
}


def request_withdraw(*, request_id: int, actor: Actor, reason: str = "", now: datetime | None = None) -> FeasibilityRequest:
    return request_close(request_id=request_id, actor=actor, outcome=Outcome.WITHDRAWN, reason=reason, now=now)


def request_close(
    *, request_id: int, actor: Actor, outcome: str, reason: str = "", now: datetime | None = None, kind: str | None = None,
    data: dict | None = None,
) -> FeasibilityRequest:
    """Record the outcome and close (DESIGN.md "Outcome"; the rules are `lifecycle.OUTCOME_KINDS`).

    Sales records LOST and EVAPORATED here (`lifecycle.recordable_outcomes`: once submitted; before
    an answer only with a reason) and withdraws in any state before CLOSED. WON, ALTERNATIVE_ACCEPTED
    and DECLINED are decisions on the answer: `analysis.decisions` records them, passing their `kind`.
    """
    now = now or timezone.now()
    outcome = Outcome(outcome)
    reason = reason.strip()
    closing_kind = lifecycle.OUTCOME_KINDS[outcome]
    with transaction.atomic():
        req = lifecycle.lock(request_id)
        permissions.require(actor, CLOSE_PERMISSIONS[outcome], req)
        if req.status == Status.CLOSED:
            raise TransitionError("This request is already closed.")
        if outcome in ON_THE_ANSWER and kind != closing_kind:
            raise TransitionError(ON_THE_ANSWER[outcome])
        if not lifecycle.allows(req.status, Status.CLOSED, closing_kind):
            if req.status == Status.DRAFT:
                raise TransitionError("A draft is not submitted yet: withdraw it instead.")
            raise TransitionError(f"“{outcome.label}” can only be recorded once Operations has answered.")
        if lifecycle.outcome_needs_reason(req.status, outcome) and not reason:
            raise ValueError(REASON_NEEDED[outcome])
        moved = lifecycle.transition(
            request_id,
            to=Status.CLOSED,
            kind=closing_kind,
            actor=actor,
            now=now,
            message=reason,
            data={"outcome": outcome.value, **(data or {})},
            fields={"outcome": outcome.value, "outcome_reason": reason},
        )
        req = moved.request
        if moved.from_status != Status.DRAFT:
            message = f"{req.reference} closed: {outcome.label}" + (f" — {reason[:150]}" if reason else "")
            # Operations hears by e-mail when Sales withdraws or records an outcome (their work stops,
            # or they learn how their answer fared); Sales' decisions on an answer tell Operations
            # themselves (analysis.decisions), so those close without a second e-mail.
            ops_email = "notification" if closing_kind in (Kind.WITHDRAWN, Kind.CLOSED) else ""
            operations = [*roles.ops_leads(), *routed_members(req)]
            notify(operations, kind="closed", message=message, request=req, email_template=ops_email, exclude=actor, now=now)
            told = {u.pk for u in operations}
            notify([u for u in sales_side(req) if u.pk not in told], kind="closed", message=message, request=req,
                   exclude=actor, now=now)
    return req


# ---------------------------------------------------------------------------------------------
# Preferences and notifications


def profile_update(*, actor: Actor, time_zone: str, reminder_emails: bool, morning_digest: bool) -> Profile:
    """The acting user's own preferences (everyone has theirs; nobody edits another's)."""
    profile, _ = Profile.objects.get_or_create(user=actor)
    profile.time_zone = time_zone
    profile.reminder_emails = reminder_emails
    profile.morning_digest = morning_digest
    profile.save(update_fields=["time_zone", "reminder_emails", "morning_digest"])
    return profile
