"""Schemathesis over the served OpenAPI document, every operation (quality.md): no 5xx, and no answer that
breaks the document (undocumented status code, wrong content type, body or headers off their schema).

The schema is loaded from the real app's /api/schema/ and every generated request goes through the same
WSGI application, in process: no server, no network, so it runs offline on a fresh machine. The run is
bounded and reproducible: a fixed seed, derandomized generation, a fixed number of examples per operation.
Schemathesis' coverage phase adds the boundary and invalid values of every parameter and body field.

Random ids would only ever meet 404s, so before each request a share of the generated path, query and body
ids is swapped, by a hash of the generated value (so it stays reproducible), for ids of a small ledger made
here: two customers with credits, uses, a membership, coupons, a credit rule, discount rules with a given
ref and a receipt, a billing account with a top-up, a usage and a project (also as list cursors and as the
ids of billing usages, to reach replays and conflicts). The rest keep their generated values, so the
validation and not-found paths are fuzzed too.

One pytest test per operation, each on a fresh ledger. A failure prints a curl command that reproduces it
(the API key shows as [Filtered]). Checks: not_a_server_error, status_code_conformance,
content_type_conformance, response_schema_conformance, response_headers_conformance.
"""

from __future__ import annotations

import os
import uuid
import zlib
from datetime import timedelta

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from billing import services as billing_services
from config.kernel.actors import Actor
from config.kernel.scopes import ALL_SCOPES
from credits import services as credit_services
from credits.models import CreditUse, CustomerCredit
from customers import services as customer_services
from customers.models import Account
from discounts import services as discount_services
from tests.world import ADA, MASSAGE, STAMP_CARD

pytestmark = [pytest.mark.fuzz, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

AID = "T00000001"
# A longer or different search, by hand: FUZZ_SEED=7 FUZZ_MAX_EXAMPLES=300 FUZZ_MODE=negative pytest -m fuzz
SEED = int(os.environ.get("FUZZ_SEED", "20261123"))
# Generated cases per operation in the fuzzing phase (the coverage phase adds its own, per parameter).
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "40"))
# positive (valid by the document), negative (invalid by it) or all
MODE = os.environ.get("FUZZ_MODE", "all")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
SYSTEM = Actor.system("fuzz")


def build_ledger() -> tuple[str, dict[str, list]]:
    """A small ledger to aim the requests at; returns the API key and the ids each parameter may take."""
    account = Account.objects.create(id=AID, name="Fuzz spa", currency="NOK")
    _client, secret = customer_services.api_client_create(
        account=account, name="fuzz", scopes=list(ALL_SCOPES), actor=SYSTEM
    )
    ada = customer_services.customer_create(
        account=account, actor=SYSTEM, **ADA, card_number="4242424242", barcode="ADA-0001"
    )
    bob = customer_services.customer_create(account=account, actor=SYSTEM, first_name="Bob")
    massage = credit_services.coupon_create(account=account, actor=SYSTEM, **MASSAGE)
    sauna = credit_services.coupon_create(
        account=account,
        actor=SYSTEM,
        name="Sauna, 5 visits",
        kind="offering",
        offering="Sauna",
        benefit_key="sauna",
        multi_use=True,
        max_uses=5,
        valid_for="P30D",
    )
    voucher = credit_services.coupon_create(account=account, actor=SYSTEM, name="Goodwill", kind="monetary", value=5000)
    gold = customer_services.membership_type_create(account=account, name="Gold", actor=SYSTEM)
    membership = customer_services.membership_create(
        customer=ada, membership_type_id=gold.pk, started_at=timezone.now() - timedelta(days=3), actor=SYSTEM
    )
    rule = credit_services.membership_credit_rule_create(
        account=account, membership_type_id=gold.pk, coupon_id=massage.pk, actor=SYSTEM
    )
    credits = [
        credit_services.credit_issue(
            customer=customer, coupon=coupon, source=CustomerCredit.Source.MANUAL, actor=SYSTEM
        )
        for customer, coupon in [(ada, massage), (ada, massage), (ada, sauna), (ada, voucher), (bob, sauna)]
    ]
    for credit in credits[2:]:
        credit_services.credit_redeem(
            account=account, customer_id=credit.customer_id, credit_id=credit.pk, actor=SYSTEM
        )

    stamp_card = discount_services.discount_rule_create(account=account, actor=SYSTEM, **STAMP_CARD)
    debit = discount_services.discount_rule_create(
        account=account,
        actor=SYSTEM,
        name="Gift balance",
        private=True,
        reward_type="discount_debit",
        reward_value=10000,
    )
    [given] = discount_services.discount_rule_give(rule=debit, customer_ids=[ada.pk], actor=SYSTEM)
    stamped, _created = discount_services.discount_usage_record(
        rule=stamp_card,
        receipt=discount_services.Receipt(
            customer_id=ada.pk, ref="receipt-1", ref_type="receipt_add", usage=0, stamp=3
        ),
        actor=SYSTEM,
    )

    wallet = billing_services.billing_account_create(account=account, org_id=ada.pk, actor=SYSTEM)
    top_up_id = uuid.uuid4()
    billing_services.billing_top_up(
        account=account, billing_account_id=wallet.pk, usage_id=top_up_id, amount=1_000_000, actor=SYSTEM
    )
    usage_id = uuid.uuid4()
    billing_services.billing_usage_report(
        account=account,
        billing_account_id=wallet.pk,
        usages=[billing_services.Usage(id=usage_id, type="credit", amount=10)],
        actor=SYSTEM,
    )
    project = billing_services.project_create(account=account, org_id=ada.pk, name="Fuzz project", actor=SYSTEM)

    customers = [str(ada.pk), str(bob.pk)]
    ids = {
        "aid": [AID],
        "customer_id": customers,
        "org_id": customers,
        "customers": [customers, customers[:1]],
        "customerId": [str(ada.number), str(bob.number)],
        "coupon_id": [str(c.pk) for c in (massage, sauna, voucher)],
        "credit_id": [str(c.pk) for c in credits],
        "use_id": [str(pk) for pk in CreditUse.objects.values_list("pk", flat=True)],
        "membership_id": [str(membership.pk)],
        "membership_type_id": [str(gold.pk)],
        "rule_id": [str(rule.pk)],
        "did": [str(stamp_card.pk), str(debit.pk)],
        "starting_after": [str(stamp_card.pk), str(given.pk), str(stamped.pk)],
        "billing_id": [str(wallet.pk)],
        "project_id": [str(project.pk)],
        "usage_id": [str(usage_id), str(top_up_id)],
        "id": [str(usage_id), str(top_up_id)],
        "benefitKey": ["massage", "sauna"],
        "cardNumber": [ada.card_number],
        "barcode": [ada.barcode],
    }
    return secret, ids


def _aimed(name: str, value, ids: dict[str, list]):
    """Three times in four a known id instead of the generated value; which one depends only on the value."""
    options = ids.get(name)
    if not options:
        return value
    choice = zlib.crc32(f"{name}={value!r}".encode()) % (len(options) * 3 + 1)
    return value if choice == len(options) * 3 else options[choice % len(options)]


def aim(case, ids: dict[str, list]) -> None:
    for container in (case.path_parameters, case.query):
        if isinstance(container, dict):
            for name in list(container):
                container[name] = _aimed(name, container[name], ids)
    if isinstance(case.body, dict):
        for name in list(case.body):
            case.body[name] = _aimed(name, case.body[name], ids)
        usages = case.body.get("usages")
        for usage in usages if isinstance(usages, list) else []:
            if isinstance(usage, dict) and "id" in usage:
                usage["id"] = _aimed("id", usage["id"], ids)


@pytest.fixture
def fuzz_ledger(transactional_db) -> tuple[str, dict[str, list]]:
    return build_ledger()


# The document is served by the app itself; loading it touches no database. Schemathesis' lazy
# `from_fixture` loader does not work with pytest 9 (it sets Node._nodeid), so the schema is loaded
# here and the API key, made per test with the ledger, is sent with each call.
schema = schemathesis.openapi.from_wsgi(
    "/api/schema/",
    get_wsgi_application(),
    config=SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "generation": {"mode": MODE, "max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
            "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True}, "fuzzing": {"enabled": True}},
        }
    ),
)


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation(case, fuzz_ledger):
    secret, ids = fuzz_ledger
    aim(case, ids)
    case.call_and_validate(headers={"X-API-KEY": secret}, checks=CHECKS)
