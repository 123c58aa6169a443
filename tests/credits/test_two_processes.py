"""Two server processes (gunicorn, on two ports) against one PostgreSQL: simultaneous redeems of one
credit split across both give exactly as many successes as uses left, and never a 5xx."""

from collections import Counter

import pytest

from credits.models import CreditUse
from tests.concurrency import run_simultaneously
from tests.conftest import credit_path
from tests.servers import call, free_port, gunicorn

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_redeems_split_across_two_servers(account, make_client, customer, make_coupon, make_credit):
    _, secret = make_client(account)
    credit = make_credit(customer, make_coupon(account, name="7-pack", multi_use=True, max_uses=7))
    path = credit_path(credit, "/redeem")
    with gunicorn(free_port(), workers=2) as first, gunicorn(free_port(), workers=2) as second:
        servers = (first, second)

        def redeem(index: int) -> int:
            return call("POST", servers[index % 2] + path, headers={"X-API-KEY": secret}, body=b"{}")[0]

        outcome = run_simultaneously(24, redeem)
    assert outcome == Counter({200: 7, 409: 17})
    credit.refresh_from_db()
    assert credit.uses == 7 and CreditUse.objects.filter(credit=credit).count() == 7
