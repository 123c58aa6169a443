"""The liability report (credits/reports.py): it reconciles on a year of generated credits, and its SQL
and its row-by-row rules agree."""

import contextlib
import random
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from credits import reports
from credits import services as credit_services
from credits.models import CustomerCredit
from customers import services as customer_services
from tests.conftest import SYSTEM

pytestmark = pytest.mark.django_db


def _generated(account, customers, coupons, *, seed=7):
    """A year of credits: issued at random times, some used (and some uses reversed), some expired,
    some revoked."""
    rng = random.Random(seed)
    now = timezone.now()
    start = now - timedelta(days=400)

    def past(moment):  # nothing happens in the future
        return min(moment, now - timedelta(minutes=1))

    for n in range(120):
        at = start + timedelta(days=rng.randint(0, 380), hours=rng.randint(0, 23))
        with time_machine.travel(at, tick=False):
            customer = rng.choice(customers)
            coupon = rng.choice(coupons)
            expiry = at + timedelta(days=rng.choice([10, 40, 90, 400])) if rng.random() < 0.8 else None
            credit = credit_services.credit_issue(
                customer=customer,
                coupon=coupon,
                actor=SYSTEM,
                source=CustomerCredit.Source.API,
                expiry_date=expiry,
                revenue=rng.choice([0, 999, 4500, 20000]),
            )
        for step in range(rng.choice([0, 0, 1, 2])):
            when = at + timedelta(days=rng.randint(0, 30), minutes=step)
            with time_machine.travel(past(when), tick=False):
                try:
                    credit_services.credit_redeem(
                        account=account, customer_id=customer.pk, credit_id=credit.pk, actor=SYSTEM
                    )
                except Exception:
                    break
        if n % 9 == 0 and credit.use_records.exists():
            use = credit.use_records.first()
            with time_machine.travel(past(use.used_at + timedelta(days=3)), tick=False), contextlib.suppress(Exception):
                credit_services.credit_use_reverse(
                    account=account, customer_id=customer.pk, credit_id=credit.pk, use_id=use.pk, actor=SYSTEM
                )
        if n % 5 == 0:
            later = past(at + timedelta(days=rng.randint(1, 60)))
            with time_machine.travel(later, tick=False), contextlib.suppress(Exception):
                credit_services.credit_revoke(
                    account=account, customer_id=customer.pk, credit_id=credit.pk, reason="gen", actor=SYSTEM
                )


def test_liability_report_reconciles_on_generated_data(account, customer):
    gift = credit_services.coupon_create(
        account=account, actor=SYSTEM, name="Gift card", kind="monetary", value=20000, currency="NOK",
        default_revenue=20000,
    )  # fmt: skip
    massage = credit_services.coupon_create(
        account=account, actor=SYSTEM, name="Massage", kind="offering", offering="Massage 60", default_revenue=4500,
        benefit_key="massage",
    )  # fmt: skip
    other = customer_services.customer_create(account=account, actor=SYSTEM, first_name="Bob")
    multi = credit_services.coupon_create(
        account=account, actor=SYSTEM, name="Ten swims", kind="offering", offering="Swim", multi_use=True,
        max_uses=3, default_revenue=3000,
    )  # fmt: skip
    _generated(account, [customer, other], [gift, massage, multi])
    report = reports.liability_report(account=account)
    totals = report.totals
    assert totals.value["expired"] > 0 and totals.value["revoked"] > 0 and totals.value["used"] > 0
    assert totals.count["expired"] > 0 and totals.count["revoked"] > 0
    assert report.reconciles
    credits = CustomerCredit.objects.filter(account=account)
    assert totals.count["issued"] == credits.count()
    assert totals.value["issued"] == sum(c.revenue for c in credits)
    assert totals.value["used"] == sum(c.revenue_recognised for c in credits)
    now = timezone.now()
    active = [c for c in credits if c.status_at(now) == "active"]
    assert totals.count["outstanding"] == len(active)
    assert totals.value["outstanding"] == sum(c.revenue - c.revenue_recognised for c in active)
    # every row's outstanding is the running balance of its coupon
    running = {}
    for row in report.rows:
        f = row.figures.value
        running[row.coupon_id] = running.get(row.coupon_id, 0) + f["issued"] - f["used"] - f["expired"] - f["revoked"]
        assert f["outstanding"] == running[row.coupon_id]
    # the SQL and the row-by-row rules agree
    python = reports._rows_python(account=account, zone=account.timezone, now=report.as_of)
    assert [(c, m, f.value, f.count) for c, m, f in python] == sorted(
        [(r.coupon_id, r.month, r.figures.value, r.figures.count) for r in report.rows],
        key=lambda t: (t[1], str(t[0])),
    )
