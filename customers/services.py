from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from zoneinfo import available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from config.kernel import scopes as scope_catalog
from config.kernel.actors import Actor
from config.kernel.exceptions import Conflict, InvalidInput
from config.kernel.updates import model_save, model_set

from . import cards
from .credentials import SECRET_PREFIX_LENGTH, forget_api_client, secret_digest
from .errors import CustomerError
from .models import Account, ApiClient, Customer, Membership, MembershipType
from .selectors import customer_by_external_id

CUSTOMER_NUMBER_MIN = 1_000_000_000
CUSTOMER_NUMBER_SPAN = 9_000_000_000  # ten-digit numbers, easy to read out at a front desk


def _field_checks(instance, *, exclude: list[str]) -> None:
    """The model's own field validators (formats, lengths), as an InvalidInput."""
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise InvalidInput(exc.message_dict) from None


@transaction.atomic
def account_create(*, account_id: str, name: str, currency: str = "NOK", timezone_name: str = "Europe/Oslo") -> Account:
    if Account.objects.filter(pk=account_id).exists():
        raise Conflict(f"Account {account_id} already exists.", code=CustomerError.ACCOUNT_EXISTS)
    account = Account(id=account_id, name=name, currency=currency.upper(), timezone=timezone_name)
    _field_checks(account, exclude=[])
    if timezone_name not in available_timezones():
        raise InvalidInput.single("timezone", f"Unknown time zone {timezone_name!r}.")
    account.save(force_insert=True)
    return account


@transaction.atomic
def account_approval_threshold_set(*, account: Account, threshold: int | None, actor: Actor) -> Account:
    """Set (or, with None, remove) the four-eyes threshold, in minor units; records who and when."""
    if threshold is not None and threshold < 0:
        raise InvalidInput.single("approval_threshold", "Must be 0 or more (minor units), or empty for none.")
    account = Account.objects.select_for_update().get(pk=account.pk)
    account.approval_threshold = threshold
    account.approval_threshold_set_by = actor.label
    account.approval_threshold_set_at = timezone.now()
    account.save(update_fields=["approval_threshold", "approval_threshold_set_by", "approval_threshold_set_at"])
    return account


def new_client_secret() -> str:
    # "blk_" + 43 url-safe characters (256 bits). No dots: a Bearer value with a dot is an access token.
    return "blk_" + secrets.token_urlsafe(32)


@transaction.atomic
def api_client_create(*, account: Account, name: str, scopes: list[str], actor: Actor) -> tuple[ApiClient, str]:
    """Create a client; returns it with its secret, which is never stored and never shown again."""
    unknown = scope_catalog.unknown(scopes)
    if unknown:
        raise InvalidInput.single("scopes", f"Unknown scope(s): {', '.join(unknown)}.")
    if not name.strip():
        raise InvalidInput.single("name", "A name is required.")
    secret = new_client_secret()
    client = ApiClient.objects.create(
        account=account,
        name=name.strip(),
        client_id="cl_" + secrets.token_hex(10),
        secret_prefix=secret[:SECRET_PREFIX_LENGTH],
        secret_hash=secret_digest(secret),
        scopes=sorted(set(scopes)),
        created_by=actor.label,
    )
    return client, secret


@transaction.atomic
def api_client_update(
    *, api_client: ApiClient, actor: Actor, name: str | None = None, scopes: list[str] | None = None
) -> ApiClient:
    """Rename a client or change its scopes; its secret stays as it is."""
    api_client = ApiClient.objects.select_for_update().get(pk=api_client.pk)
    if scopes is not None:
        unknown = scope_catalog.unknown(scopes)
        if unknown:
            raise InvalidInput.single("scopes", f"Unknown scope(s): {', '.join(unknown)}.")
        api_client.scopes = sorted(set(scopes))
    if name is not None:
        if not name.strip():
            raise InvalidInput.single("name", "A name is required.")
        api_client.name = name.strip()
    api_client.updated_by = actor.label
    api_client.save(update_fields=["name", "scopes", "updated_by"])
    forget_api_client(api_client.pk)
    return api_client


@transaction.atomic
def api_client_deactivate(*, api_client: ApiClient, actor: Actor) -> ApiClient:
    """Its secret and every access token it holds stop working at once."""
    if api_client.is_active:
        api_client.is_active = False
        api_client.deactivated_at = timezone.now()
        api_client.deactivated_by = actor.label
        api_client.save(update_fields=["is_active", "deactivated_at", "deactivated_by"])
        forget_api_client(api_client.pk)
    return api_client


def api_client_mark_used(*, api_client: ApiClient) -> None:
    """Record a client's last use, at most once per API_CLIENT_LAST_USED_RESOLUTION seconds (not a write
    per request). Bookkeeping, not a change of the client: no actor is recorded."""
    now = timezone.now()
    resolution = timedelta(seconds=settings.API_CLIENT_LAST_USED_RESOLUTION)
    if api_client.last_used_at is None or now - api_client.last_used_at >= resolution:
        ApiClient.objects.filter(pk=api_client.pk).update(last_used_at=now)
        api_client.last_used_at = now


CUSTOMER_FIELDS = ("email", "first_name", "last_name", "external_ref", "card_number", "barcode", "pin")
# What a point of sale finds a customer by, besides the number: each unique within an account.
IDENTIFIER_FIELDS = {"card_number": "card number", "barcode": "barcode", "pin": "PIN"}


def _clean_identifiers(values: dict) -> dict:
    """Empty identifiers are absent; card numbers are kept as decimal digits without leading zeros."""
    for field in IDENTIFIER_FIELDS:
        if values.get(field) == "":
            values[field] = None
    if values.get("card_number"):
        values["card_number"] = cards.normalise(values["card_number"])
    return values


def _customer_unique_checks(*, account: Account, values: dict, exclude_pk=None) -> None:
    errors: dict[str, list[str]] = {}
    for field, label in IDENTIFIER_FIELDS.items():
        value = values.get(field)
        if value:
            clash = Customer.objects.filter(account=account, **{field: value})
            if exclude_pk is not None:
                clash = clash.exclude(pk=exclude_pk)
            if clash.exists():
                errors[field] = [f"Another customer already has this {label}."]
    if errors:
        raise InvalidInput(errors)


def customer_create(*, account: Account, actor: Actor, **values) -> Customer:
    values = _clean_identifiers({key: values[key] for key in CUSTOMER_FIELDS if key in values})
    _field_checks(Customer(account=account, number=1, **values), exclude=["account", "number"])
    _customer_unique_checks(account=account, values=values)
    values["created_by"] = values["updated_by"] = actor.label
    # Numbers are random ten-digit ints: unique by constraint, retried on the (rare) collision.
    for _attempt in range(8):
        number = CUSTOMER_NUMBER_MIN + secrets.randbelow(CUSTOMER_NUMBER_SPAN)
        try:
            with transaction.atomic():
                return Customer.objects.create(account=account, number=number, **values)
        except IntegrityError:
            if not Customer.objects.filter(number=number).exists():
                raise
    raise RuntimeError("could not allocate a customer number")


@transaction.atomic
def customer_update(*, customer: Customer, actor: Actor, **values) -> Customer:
    changes = _clean_identifiers({key: values[key] for key in CUSTOMER_FIELDS if key in values})
    _customer_unique_checks(account=customer.account, values=changes, exclude_pk=customer.pk)
    changed = model_set(instance=customer, fields=CUSTOMER_FIELDS, data=changes)
    _field_checks(customer, exclude=["account", "number"])
    return model_save(instance=customer, changed=changed, actor=actor)


@transaction.atomic
def membership_type_create(*, account: Account, name: str, description: str = "", actor: Actor) -> MembershipType:
    taken = InvalidInput.single("name", "A membership type with this name already exists.")
    if MembershipType.objects.filter(account=account, name=name).exists():
        raise taken
    try:
        with transaction.atomic():
            return MembershipType.objects.create(
                account=account, name=name, description=description, created_by=actor.label
            )
    except IntegrityError:
        raise taken from None  # created by a concurrent request since the check


@transaction.atomic
def membership_create(
    *,
    customer: Customer,
    membership_type_id,
    started_at: datetime | None = None,
    ends_at: datetime | None = None,
    actor: Actor,
) -> Membership:
    membership_type = MembershipType.objects.filter(account_id=customer.account_id, pk=membership_type_id).first()
    if membership_type is None:
        raise InvalidInput.single("membership_type_id", "No such membership type.")
    started_at = started_at or timezone.now()
    if ends_at is not None and ends_at < started_at:
        raise InvalidInput.single("ends_at", "ends_at must not be before started_at.")
    return Membership.objects.create(
        account_id=customer.account_id,
        customer=customer,
        membership_type=membership_type,
        started_at=started_at,
        ends_at=ends_at,
        created_by=actor.label,
    )


@transaction.atomic
def membership_cancel(*, membership: Membership, actor: Actor, at: datetime | None = None) -> Membership:
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.status != Membership.Status.ACTIVE:
        raise Conflict(f"The membership is {membership.status}, not active.", code=CustomerError.MEMBERSHIP_NOT_ACTIVE)
    now = at or timezone.now()
    membership.status = Membership.Status.CANCELLED
    membership.cancelled_at = now
    membership.cancelled_by = actor.label
    if membership.ends_at is None or membership.ends_at > now:
        membership.ends_at = max(now, membership.started_at)
    membership.save()
    return membership


def customer_get_or_create_by_external_id(*, account: Account, external_id: str, actor: Actor) -> Customer:
    """The customer an opaque client id names, created (with that id as its `external_ref`) on first use so
    that a client that never called the customers API still works. Two first uses at once create one
    customer: a transaction-level advisory lock on (account, id) serializes them on PostgreSQL (SQLite
    transactions are already serialized)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                key = f"customer:{account.pk}:{external_id}"
                cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [key])
        customer = customer_by_external_id(account=account, external_id=external_id)
        if customer is None:
            customer = customer_create(account=account, actor=actor, external_ref=external_id)
        return customer
