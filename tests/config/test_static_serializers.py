"""config/api/serializers.py: the answers of StaticFieldsModelSerializer equal DRF's own, field by field,
for credits in every state; StaticInputSerializer validates as DRF's Serializer does, and no two
instances share a bound field."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework import serializers

from config.api.serializers import StaticFieldsModelSerializer, StaticInputSerializer, StrictInputSerializer
from credits import services
from credits.api.serializers import CreditCouponSerializer, CreditOutputSerializer, CreditRedeemInputSerializer
from credits.models import CustomerCredit
from tests.conftest import SYSTEM

pytestmark = pytest.mark.django_db


def _drf(serializer, instance):
    """The answer DRF's own ModelSerializer gives (fields built and bound for this instance)."""
    return serializers.ModelSerializer.to_representation(serializer, instance)


@pytest.fixture
def credits_in_every_state(customer, make_coupon, make_credit, membership):
    now = timezone.now()
    plain = make_coupon(customer.account, name="plain", benefit_key=None)
    money = make_coupon(customer.account, name="money", kind="monetary", value=5000, offering=None)
    limited = make_coupon(customer.account, name="limited", multi_use=True, max_uses=2)
    credits = [
        make_credit(customer, plain),
        make_credit(customer, money, expiry_date=now + timedelta(days=3), membership=membership),
        make_credit(customer, limited, revenue=0),
    ]
    revoked = make_credit(customer, plain)
    services.credit_revoke(account=customer.account, customer_id=customer.pk, credit_id=revoked.pk, actor=SYSTEM)
    used = make_credit(customer, plain)
    services.credit_redeem(account=customer.account, customer_id=customer.pk, credit_id=used.pk, actor=SYSTEM)
    expired = make_credit(customer, plain, expiry_date=now + timedelta(seconds=1))
    CustomerCredit.objects.filter(pk=expired.pk).update(expiry_date=now - timedelta(days=1))
    ids = [c.pk for c in credits] + [revoked.pk, used.pk, expired.pk]
    return list(CustomerCredit.objects.select_related("coupon").filter(pk__in=ids))


def test_credit_answers_equal_drfs_in_every_state(credits_in_every_state):
    now = timezone.now()
    statuses = set()
    for credit in credits_in_every_state:
        fast = CreditOutputSerializer(credit, context={"now": now})
        slow = CreditOutputSerializer(credit, context={"now": now})
        answer = fast.data
        assert answer == _drf(slow, credit)
        assert answer["coupon"] == _drf(CreditCouponSerializer(credit.coupon), credit.coupon)
        assert list(answer) == CreditOutputSerializer.Meta.fields
        statuses.add(answer["status"])
    assert statuses == {"active", "revoked", "redeemed", "expired"}
    many = CreditOutputSerializer(credits_in_every_state, many=True, context={"now": now}).data
    assert many == [_drf(CreditOutputSerializer(c, context={"now": now}), c) for c in credits_in_every_state]


@pytest.mark.parametrize("zone", ["UTC", "Europe/Oslo", "America/St_Johns"])
def test_times_are_answered_in_the_current_time_zone_as_drf_does(credits_in_every_state, zone):
    """The ISO 8601 times read the current time zone once per answer: under any activated zone (a whole
    hour off UTC, or a half hour) the answer still equals DRF's, "Z" for UTC and an offset otherwise."""
    now = timezone.now()
    with timezone.override(zone):
        for credit in credits_in_every_state:
            answer = CreditOutputSerializer(credit, context={"now": now}).data
            assert answer == _drf(CreditOutputSerializer(credit, context={"now": now}), credit)
            assert answer["created_at"].endswith("Z") == (zone == "UTC")


def test_a_nested_answer_without_method_fields_needs_no_serializer_of_its_own():
    from config.api import serializers as machinery

    assert not machinery._needs_instance(CreditCouponSerializer)
    assert machinery._needs_instance(CreditOutputSerializer)  # `status` is a method field
    assert machinery._needs_instance(_ReadsContext)  # DRF's own path


def test_a_method_field_reads_its_own_instances_context(customer, coupon, make_credit):
    """The fields are bound once per class, but `status` is asked of the serializer at hand: two answers
    with two clocks say two things."""
    now = timezone.now()
    credit = make_credit(customer, coupon, expiry_date=now + timedelta(hours=1))
    before = CreditOutputSerializer(credit, context={"now": now}).data["status"]
    after = CreditOutputSerializer(credit, context={"now": now + timedelta(hours=2)}).data["status"]
    assert (before, after) == ("active", "expired")


class _ContextField(serializers.Field):
    def to_representation(self, value):
        return self.context["label"]


class _ReadsContext(StaticFieldsModelSerializer):
    label = _ContextField(source="*")

    class Meta:
        model = CustomerCredit
        fields = ["id", "label"]


def test_a_field_that_may_read_the_context_sends_the_class_to_drfs_own_path(credit):
    first = _ReadsContext(credit, context={"label": "one"}).data
    second = _ReadsContext(credit, context={"label": "two"}).data
    assert (first["label"], second["label"]) == ("one", "two")
    assert _ReadsContext._representation_plan is None


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"reference": "till-1"},
        {"reference": None, "note": ""},
        {"reference": "x" * 256},
        {"note": "a\x00b"},
        {"reference": 12},
        {"reference": ["a"]},
        {"reference": "r", "referense": "r"},
        {"note": "n" * 5001, "reference": "r"},
    ],
)
def test_input_validation_equals_drfs(body):
    # DRF's own field copying (deepcopy), under the same strict body rules.
    class Plain(StrictInputSerializer):
        reference = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=255)
        note = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=5000)

    static, plain = CreditRedeemInputSerializer(data=body), Plain(data=body)
    assert static.is_valid() == plain.is_valid()
    assert static.errors == plain.errors
    if plain.is_valid():
        assert dict(static.validated_data) == dict(plain.validated_data)


def test_no_two_input_serializers_share_a_bound_field():
    first, second = CreditRedeemInputSerializer(data={"reference": "a"}), CreditRedeemInputSerializer(data={})
    assert first.fields["reference"] is not second.fields["reference"]
    assert first.fields["reference"].parent is first and second.fields["reference"].parent is second
    assert first.is_valid() and second.is_valid()
    assert (dict(first.validated_data), dict(second.validated_data)) == ({"reference": "a"}, {})


def test_a_static_input_serializer_refuses_fields_with_children():
    with pytest.raises(TypeError, match="scalar fields only"):

        class Listy(StaticInputSerializer):
            items = serializers.ListField(child=serializers.CharField())


class _Sources(StaticFieldsModelSerializer):
    label = serializers.CharField(source="__str__")  # a method: DRF calls it
    fully_used = serializers.ReadOnlyField()  # a property
    coupon_name = serializers.CharField(source="coupon.name")  # dotted
    membership_id = serializers.UUIDField(allow_null=True)  # None stays None

    class Meta:
        model = CustomerCredit
        fields = ["id", "label", "fully_used", "coupon_name", "membership_id"]


def test_methods_properties_and_dotted_sources_read_as_drf_reads_them(credit):
    answer = _Sources(credit).data
    assert answer == _drf(_Sources(credit), credit)
    assert answer["label"] == str(credit) and answer["coupon_name"] == credit.coupon.name
    assert answer["fully_used"] is False and answer["membership_id"] is None
