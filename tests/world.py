"""The world: two accounts, each with one of everything the four API families can point at, and API
clients with every scope combination the permission tests need. Made through the services, as
production makes it. `tests/conftest.py` serves it as the `world` fixture (per test) and the
`module_world` fixture (once per test module, rolled back at the module's end)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from billing import services as billing_services
from config.kernel import scopes as scope_catalog
from config.kernel.actors import Actor
from config.kernel.scopes import ALL_SCOPES
from credits import services as credit_services
from customers import approvals
from customers import services as customer_services
from customers.models import ApprovalRequest
from discounts import services as discount_services
from events import services as event_services
from staff.services import second_factor_reset
from tests.api import Api
from webhooks import services as webhook_services
from webhooks import worker as webhook_worker

SYSTEM = Actor.system("tests")

# The customer and the coupon most tests start from (also the `customer` and `coupon` fixtures' defaults).
ADA = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"}
MASSAGE = {
    "name": "60 min massage",
    "kind": "offering",
    "offering": "Massage 60 min",
    "benefit_key": "massage",
    "default_revenue": 4500,
}
# A stamp card: the ninth stamp's reward is one item free.
STAMP_CARD = {"name": "Coffee card", "reward_type": "discount_item_quantity", "reward_value": 1, "requirement_stamp": 9}


def oslo_account(account_id: str):
    """An account (NOK) whose business is in Europe/Oslo, so that its local days and months are not UTC's."""
    return customer_services.account_create(
        account_id=account_id, name="Spa", currency="NOK", timezone_name="Europe/Oslo"
    )


def scopes_without(required) -> list[str]:
    """Every scope but those that grant any of `required` (itself or one implying it)."""
    return [scope for scope in ALL_SCOPES if not scope_catalog.grants_any([scope], required)]


@dataclass
class Tenant:
    """One account and its objects. `ids` names them for paths and bodies (see `fill`)."""

    account: object
    customer: object
    membership_type: object
    membership: object
    coupon: object
    credit: object  # unused
    used_credit: object  # redeemed once: `use`
    use: object
    rule: object  # membership credit rule
    discount: object  # public discount rule, used once by `customer`
    private_discount: object  # given to `customer`
    discount_ref: object
    usage_ref: object
    wallet: object  # billing account of `customer`, topped up and debited once
    debit: uuid.UUID
    project: object
    webhook: object  # a Frontier-signed webhook endpoint with queued deliveries
    clients: dict[frozenset[str], tuple[object, str]] = field(default_factory=dict)
    # Once built, a client made on demand is not kept: it lives in the test's transaction only, and a
    # world shared by a module (rolled back after each test) must not hand it to the next test.
    built: bool = False

    @property
    def ids(self) -> dict[str, object]:
        return {
            "aid": self.account.pk,
            "customer": self.customer.pk,
            "number": self.customer.number,
            "card": self.customer.card_number,
            "barcode": self.customer.barcode,
            "type": self.membership_type.pk,
            "membership": self.membership.pk,
            "coupon": self.coupon.pk,
            "credit": self.credit.pk,
            "used_credit": self.used_credit.pk,
            "use": self.use.pk,
            "rule": self.rule.pk,
            "discount": self.discount.pk,
            "private_discount": self.private_discount.pk,
            "wallet": self.wallet.pk,
            "debit": self.debit,
            "project": self.project.pk,
            "webhook": self.webhook.pk,
        }

    def uuids(self) -> set[str]:
        """Every uuid of this account's objects, to check that an answer to another account shows none."""
        return {str(value) for value in self.ids.values() if isinstance(value, uuid.UUID)}

    def client(self, scopes=ALL_SCOPES) -> tuple[object, str]:
        """The API client holding exactly `scopes`, with its secret: one made with the world, or a new one."""
        key = frozenset(scopes)
        if key in self.clients:
            return self.clients[key]
        name = "scopes: " + (" ".join(sorted(key)) or "none")
        made = customer_services.api_client_create(
            account=self.account, name=name[:100], scopes=sorted(key), actor=SYSTEM
        )
        if not self.built:
            self.clients[key] = made
        return made

    def top_up(self, amount: int) -> list:
        """Tops up `wallet` by `amount` (a billing transaction and its event); the transactions made."""
        return billing_services.billing_top_up(
            account=self.account, billing_account_id=self.wallet.pk, usage_id=uuid.uuid4(), amount=amount, actor=SYSTEM
        )

    def api(self, scopes=ALL_SCOPES, form: str = "api-key") -> Api:
        client, secret = self.client(scopes)
        api = Api(secret, client_id=client.client_id, form=form)
        api.client = client
        return api


@dataclass
class World:
    a: Tenant  # T00000001, the account whose objects the paths name
    b: Tenant  # P00000002, the other account

    @property
    def ids(self) -> dict[str, object]:
        return self.a.ids


def fill(value, ids: dict):
    """`value` with every {name} replaced by ids[name]; {new} is a fresh uuid each time."""
    if isinstance(value, str):
        return value.format(**ids, new=uuid.uuid4())
    if isinstance(value, dict):
        return {k: fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, ids) for v in value]
    return value


def build_tenant(account_id: str, name: str, currency: str, card: str, barcode: str) -> Tenant:
    account = customer_services.account_create(account_id=account_id, name=name, currency=currency)
    customer = customer_services.customer_create(account=account, actor=SYSTEM, **ADA)
    customer.card_number, customer.barcode = card, barcode
    customer.save(update_fields=["card_number", "barcode"])
    membership_type = customer_services.membership_type_create(account=account, name="Gold", actor=SYSTEM)
    membership = customer_services.membership_create(
        customer=customer,
        membership_type_id=membership_type.pk,
        started_at=timezone.now() - timedelta(days=3),
        actor=SYSTEM,
    )
    coupon = credit_services.coupon_create(account=account, actor=SYSTEM, **MASSAGE)

    def issue():
        return credit_services.credit_issue(customer=customer, coupon=coupon, actor=SYSTEM, source="manual")

    credit, used_credit = issue(), issue()
    issue()  # a third, so that a benefit can be used while `credit` stays unused for other rows
    use = credit_services.credit_redeem(
        account=account, customer_id=customer.pk, credit_id=used_credit.pk, actor=SYSTEM
    ).use_records.get()
    rule = credit_services.membership_credit_rule_create(
        account=account, membership_type_id=membership_type.pk, coupon_id=coupon.pk, actor=SYSTEM
    )
    discount = discount_services.discount_rule_create(
        account=account, actor=SYSTEM, name="Five off", reward_type="discount_amount", reward_value=5
    )
    discount_ref, _ = discount_services.discount_usage_record(
        rule=discount,
        receipt=discount_services.Receipt(customer_id=customer.pk, ref="R-1", ref_type="receipt_add"),
        actor=SYSTEM,
    )
    private_discount = discount_services.discount_rule_create(
        account=account, actor=SYSTEM, name="Members", reward_type="discount_amount", reward_value=7, private=True
    )
    discount_services.discount_rule_give(rule=private_discount, customer_ids=[customer.pk], actor=SYSTEM)
    # A claim (the point-of-sale way of recording use) of the private rule, so every model has a row.
    discount_services.discount_claim_create(
        account=account,
        customer_id=str(customer.pk),
        purchase_at=timezone.now(),
        discounts=[{"id": private_discount.pk, "refs": [{"id": "line-1", "amount": 100, "usage": 1}]}],
        actor=SYSTEM,
        ref="C-1",
    )
    wallet = billing_services.billing_account_create(account=account, org_id=customer.pk, actor=SYSTEM)
    # A Frontier-signed webhook endpoint (nothing listens there), queued the events from here on.
    webhook, _ = webhook_services.endpoint_create(
        account=account, url="http://127.0.0.1:9/hook", actor=SYSTEM, kind="frontier"
    )
    billing_services.billing_top_up(
        account=account, billing_account_id=wallet.pk, usage_id=uuid.uuid4(), amount=500, actor=SYSTEM
    )
    debit = uuid.uuid4()
    billing_services.billing_usage_report(
        account=account,
        billing_account_id=wallet.pk,
        actor=SYSTEM,
        usages=[
            billing_services.Usage(id=debit, type="credit", amount=5),
            billing_services.Usage(id=uuid.uuid4(), type="feature", amount=1, description="seats"),
        ],
    )
    project = billing_services.project_create(account=account, org_id=customer.pk, name="Main", actor=SYSTEM)
    event_services.event_settings_update(account_id=account.pk, expiring_soon_days=[7])
    event_services.notice_once(account_id=account.pk, kind="credit.expiring_soon", resource_id=credit.pk, threshold=30)
    webhook_worker.fan_out()
    return Tenant(
        account=account,
        customer=customer,
        membership_type=membership_type,
        membership=membership,
        coupon=coupon,
        credit=credit,
        used_credit=used_credit,
        use=use,
        rule=rule,
        discount=discount,
        private_discount=private_discount,
        discount_ref=discount_ref,
        usage_ref=discount_ref.entries.get(),
        wallet=wallet,
        debit=debit,
        project=project,
        webhook=webhook,
    )


def _staff_history(tenant: Tenant) -> None:
    """A pending four-eyes request and a recorded second-factor reset, so that their models have rows."""
    users = get_user_model().objects
    requester = users.create_user("world-requester", password=None, is_staff=True)
    admin = users.create_superuser("world-admin", "world-admin@example.com", None)
    approvals.approval_request_create(
        account=tenant.account,
        kind=ApprovalRequest.Kind.CREDIT_ISSUE,
        summary=f"{tenant.coupon.name} for {tenant.customer}",
        value=tenant.coupon.default_revenue,
        payload={"customer_id": str(tenant.customer.pk), "coupon_id": str(tenant.coupon.pk), "membership_id": None,
                 "expiry_date": None, "revenue": None},
        requested_by=requester,
    )  # fmt: skip
    second_factor_reset(user_id=requester.pk, reset_by=admin, reason="lost phone")


def build_world() -> World:
    a = build_tenant("T00000001", "Spa", "NOK", card="4242", barcode="B-1")
    b = build_tenant("P00000002", "Other gym", "SEK", card="9999", barcode="B-9")
    for tenant in (a, b):
        tenant.client(ALL_SCOPES)
        tenant.client(())
    for scope in ALL_SCOPES:
        a.client([scope])
        a.client(scopes_without([scope]))
    # A stored Idempotency-Key answer, so that every model has a row in the world.
    answer = a.api().post("/customers/membership-types", {"name": "Silver"}, HTTP_IDEMPOTENCY_KEY="world-1")
    assert answer.status_code == 201, answer.content
    _liability_rollup(a.account)
    _staff_history(a)
    a.built = b.built = True
    return World(a=a, b=b)


def _liability_rollup(account) -> None:
    """The liability report's rollup as a refresh next month leaves it (this month closed), so that its
    tables have rows; by hand where the rollup's SQL does not run (SQLite)."""
    from django.db import connection

    from credits import reports
    from credits.models import LiabilityMonth, LiabilityRollup
    from credits.services import liability

    later = timezone.now() + timedelta(days=40)
    if connection.vendor == "postgresql":
        liability.liability_rollup_refresh(account=account, now=later)
        return
    LiabilityRollup.objects.create(
        account=account, zone=account.timezone, closed_through=later.date(), checked_at=later
    )
    LiabilityMonth.objects.create(
        account=account, coupon_id=uuid.uuid4(), month=timezone.now().date().replace(day=1),
        **dict.fromkeys(reports.FLOW_FIELDS, 0),
    )  # fmt: skip
