"""Fixtures of the billing tests."""

import uuid

import pytest

from billing import services
from tests.conftest import SYSTEM


@pytest.fixture
def wallet(account, customer):
    """The customer's billing account, topped up with 300."""
    billing = services.billing_account_create(account=account, org_id=customer.pk, actor=SYSTEM)
    services.billing_top_up(
        account=account, billing_account_id=billing.pk, usage_id=uuid.uuid4(), amount=300, actor=SYSTEM
    )
    billing.refresh_from_db()
    return billing
