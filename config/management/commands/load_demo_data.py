import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from billing import services as billing_services
from billing.models import BillingAccount
from config.kernel.actors import Actor
from config.kernel.scopes import ALL_SCOPES
from credits import services as credit_services
from credits.models import Coupon, CustomerCredit, MembershipCreditRule
from customers import services
from customers.models import Account, Customer, Membership, MembershipType
from discounts import services as discount_services
from discounts.models import DiscountRule

DEMO_ACCOUNT = "T00000001"
DEMO_CUSTOMERS = [
    ("demo-1", "Ada", "Lovelace", "ada@example.com", "1234567890", "DEMO-ADA"),
    ("demo-2", "Grace", "Hopper", "grace@example.com", "3735928559", "DEMO-GRACE"),
    ("demo-3", "Alan", "Turing", "alan@example.com", None, None),
    ("demo-4", "Edsger", "Dijkstra", "edsger@example.com", None, None),
    ("demo-5", "Barbara", "Liskov", "barbara@example.com", None, None),
]
DEMO_COUPONS = [
    dict(
        name="60 min massage",
        benefit_key="massage",
        kind="offering",
        offering="Massage 60 min",
        default_revenue=4500,
        valid_for="P3M",
    ),
    dict(
        name="Sauna 10-pack",
        benefit_key="sauna",
        kind="offering",
        offering="Sauna session",
        multi_use=True,
        max_uses=10,
        default_revenue=10000,
        valid_for="P1Y",
    ),
    dict(name="Goodwill voucher", benefit_key="goodwill", kind="monetary", value=20000, default_revenue=20000),
]


class Command(BaseCommand):
    help = (
        "Load an idempotent demo account with customers, coupons, credits and memberships, make sure a "
        "staff sign-in exists, and print it with a fresh API client holding every scope."
    )

    def add_arguments(self, parser):
        parser.add_argument("--admin-username", default="admin")
        parser.add_argument("--host", default="127.0.0.1", help="The host the printed sign-in and curl lines name.")
        parser.add_argument("--port", type=int, default=8000, help="The port the printed lines name (make run PORT=N).")

    @transaction.atomic
    def handle(self, *args, admin_username: str, host: str = "127.0.0.1", port: int = 8000, **options):
        actor = Actor.system("load_demo_data")
        account, _ = Account.objects.get_or_create(
            pk=DEMO_ACCOUNT, defaults={"name": "Demo Spa & Gym", "currency": "NOK", "timezone": "Europe/Oslo"}
        )
        customers = []
        for ref, first, last, email, card, barcode in DEMO_CUSTOMERS:
            customer = Customer.objects.filter(account=account, external_ref=ref).first()
            if customer is None:
                customer = services.customer_create(
                    account=account,
                    actor=actor,
                    external_ref=ref,
                    first_name=first,
                    last_name=last,
                    email=email,
                    card_number=card,
                    barcode=barcode,
                )
            customers.append(customer)
        coupons = {}
        for values in DEMO_COUPONS:
            coupon = Coupon.objects.filter(account=account, name=values["name"]).first()
            coupons[values["benefit_key"]] = coupon or credit_services.coupon_create(
                account=account, actor=actor, **values
            )
        gold, _ = MembershipType.objects.get_or_create(
            account=account, name="Gold", defaults={"description": "Monthly massage included"}
        )
        if not MembershipCreditRule.objects.filter(account=account, membership_type=gold).exists():
            credit_services.membership_credit_rule_create(
                account=account,
                membership_type_id=gold.pk,
                coupon_id=coupons["massage"].pk,
                actor=actor,
                issuing_frequency="billing_cycle",
                roll_over=False,
                issue_on_signup=True,
                quantity=1,
            )
        for customer in customers[:2]:
            membership = Membership.objects.filter(customer=customer, membership_type=gold).first()
            if membership is None:
                services.membership_create(
                    customer=customer,
                    membership_type_id=gold.pk,
                    started_at=timezone.now() - timedelta(days=40),
                    actor=actor,
                )
        for customer in customers:
            if not CustomerCredit.objects.filter(customer=customer).exists():
                for key in ("massage", "sauna"):
                    credit_services.credit_issue(
                        customer=customer, coupon=coupons[key], source=CustomerCredit.Source.MANUAL, actor=actor
                    )
        self._stamp_card_and_billing(account, customers, actor)
        password = self._admin(admin_username)
        client, secret = services.api_client_create(
            account=account, name=f"demo-{timezone.now():%Y%m%d%H%M%S}", scopes=list(ALL_SCOPES), actor=actor
        )
        first = customers[0]
        base = f"http://{host}:{port}"
        self.stdout.write(
            "\n".join(
                [
                    f"Demo account {account.id} ({account.name}) is loaded.",
                    "",
                    f"  Admin:       {base}/admin/  user {admin_username!r}  password {password!r}",
                    "               then a second factor: set up an authenticator app at the first sign-in"
                    if settings.STAFF_2FA_REQUIRED
                    else "               (no second factor in the demo: STAFF_2FA_REQUIRED=true asks for one)",
                    f"  API docs:    {base}/api/docs/",
                    f"  Demo API key (every scope): {secret}",
                    f"  client_id:   {client.client_id}",
                    "",
                    "  Try it:",
                    f"    curl -H 'X-API-KEY: {secret}' {base}/customers/customers/{first.pk}/credits",
                    f"    curl -X POST -H 'X-API-KEY: {secret}' "
                    f"{base}/v1/customers/{first.number}/benefits/massage/use",
                    "",
                ]
            )
        )

    def _stamp_card_and_billing(self, account, customers, actor) -> None:
        if not DiscountRule.objects.filter(account=account, name="Coffee stamp card").exists():
            discount_services.discount_rule_create(
                account=account,
                actor=actor,
                name="Coffee stamp card",
                description="10th coffee free",
                reward_type="discount_item_quantity",
                reward_value=1,
                requirement_stamp=9,
            )
        if not BillingAccount.objects.filter(customer=customers[0]).exists():
            wallet = billing_services.billing_account_create(account=account, org_id=customers[0].pk, actor=actor)
            billing_services.billing_top_up(
                account=account,
                billing_account_id=wallet.pk,
                usage_id=uuid.uuid4(),
                amount=1000,
                description="Welcome credits",
                actor=actor,
            )

    def _admin(self, username: str) -> str:
        """A fresh password on every run: it is printed, never stored in clear."""
        User = get_user_model()
        user = User.objects.filter(username=username).first() or User(
            username=username, email=f"{username}@example.com"
        )
        user.is_staff = True
        user.is_superuser = True
        password = secrets.token_urlsafe(12)
        user.set_password(password)
        user.save()
        return password
