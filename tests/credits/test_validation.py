"""The credits app's value rules, written once (credits/validation.py), and the services that apply them."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from config.kernel.exceptions import InvalidInput, NotFound
from credits import selectors, services, validation
from credits.api.serializers import CouponInputSerializer
from credits.errors import CreditError
from credits.models import Coupon, CustomerCredit
from tests.conftest import SYSTEM, snapshot

pytestmark = pytest.mark.django_db


def test_expiry_must_be_in_the_future():
    now = timezone.now()
    assert validation.expiry_date_error(None, now=now) is None
    assert validation.expiry_date_error(now + timedelta(seconds=1), now=now) is None
    assert validation.expiry_date_error(now, now=now) == "Must be in the future."
    assert validation.expiry_date_error(now - timedelta(days=1), now=now) == "Must be in the future."


def test_the_service_applies_the_expiry_rule(customer, coupon):
    with pytest.raises(InvalidInput) as raised:
        services.credit_issue(
            customer=customer, coupon=coupon, actor=SYSTEM, source="manual", expiry_date=timezone.now()
        )
    assert raised.value.fields == {"expiry_date": ["Must be in the future."]}
    assert not CustomerCredit.objects.exists()


def test_the_model_and_the_api_share_one_benefit_key_validator():
    field = Coupon._meta.get_field("benefit_key")
    assert validation.BENEFIT_KEY_VALIDATOR in field.validators
    assert validation.BENEFIT_KEY_VALIDATOR in CouponInputSerializer().fields["benefit_key"].validators
    for good in ["sauna", "PT_60.min-x", "a" * 64]:
        validation.BENEFIT_KEY_VALIDATOR(good)
    for bad in ["", "a" * 65, "two words", "sauna\n", "säuna"]:
        with pytest.raises(ValidationError):
            validation.BENEFIT_KEY_VALIDATOR(bad)


def test_the_service_issues_by_ids_with_the_same_checks(customer, coupon, make_coupon, other_account, membership):
    foreign = make_coupon(other_account, name="Foreign")
    for coupon_id in (foreign.pk, "not-a-uuid", "00000000-0000-0000-0000-000000000000"):
        with pytest.raises(InvalidInput) as raised:
            services.credit_issue(customer=customer, coupon_id=coupon_id, actor=SYSTEM, source="api")
        assert raised.value.fields == {"coupon_id": ["Must be an active coupon of this account."]}
    credit = services.credit_issue(
        customer=customer, coupon_id=coupon.pk, membership_id=membership.pk, actor=SYSTEM, source="api"
    )
    assert (credit.coupon, credit.membership) == (coupon, membership)


@pytest.mark.parametrize(
    "get, kwargs, code",
    [
        (selectors.coupon_get, {}, CreditError.COUPON_NOT_FOUND),
        (selectors.credit_get, {}, CreditError.CREDIT_NOT_FOUND),
        (selectors.membership_credit_rule_get, {}, CreditError.RULE_NOT_FOUND),
    ],
)
@pytest.mark.parametrize("id", ["00000000-0000-0000-0000-000000000000", "not-a-uuid", "12345"])
def test_an_entity_get_of_an_unknown_id_is_not_found_with_its_code(account, get, kwargs, code, id):
    with pytest.raises(NotFound) as raised:
        get(account=account, id=id, **kwargs)
    assert raised.value.code == code


def test_a_credit_get_of_another_account_or_customer_is_not_found(credit, other_account, make_customer):
    assert selectors.credit_get(account=credit.account, id=credit.pk) == credit
    with pytest.raises(NotFound):
        selectors.credit_get(account=other_account, id=credit.pk)
    other = make_customer(credit.account, email="bo@example.com")
    with pytest.raises(NotFound):
        selectors.credit_get(account=credit.account, customer_id=other.pk, id=credit.pk)


def test_a_coupon_patch_that_changes_nothing_writes_nothing(api, coupon):
    before = snapshot()
    response = api.patch(f"/customers/coupons/{coupon.pk}", {"name": coupon.name, "active": True})
    assert response.status_code == 200
    assert snapshot() == before


def test_a_coupon_patch_records_who_and_defaults_a_monetary_currency(api, coupon):
    response = api.patch(f"/customers/coupons/{coupon.pk}", {"kind": "monetary", "value": 500})
    assert response.status_code == 200, response.content
    coupon.refresh_from_db()
    assert (coupon.kind, coupon.value, coupon.currency) == ("monetary", 500, "NOK")
    assert coupon.updated_by == "client:pos-frontdesk"


def test_a_rule_patch_changes_its_coupon_and_records_who(api, account, membership_type, coupon, make_coupon):
    rule = services.membership_credit_rule_create(
        account=account, membership_type_id=membership_type.pk, coupon_id=coupon.pk, actor=SYSTEM
    )
    other = make_coupon(account, name="Sauna", benefit_key="sauna")
    response = api.patch(f"/customers/membership-credit-rules/{rule.pk}", {"coupon_id": str(other.pk), "quantity": 3})
    assert response.status_code == 200, response.content
    rule.refresh_from_db()
    assert (rule.coupon, rule.quantity, rule.updated_by) == (other, 3, "client:pos-frontdesk")
    before = snapshot()
    assert api.patch(f"/customers/membership-credit-rules/{rule.pk}", {"quantity": 3}).status_code == 200
    assert snapshot() == before
