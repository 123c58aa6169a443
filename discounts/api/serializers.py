"""Input and output serializers of the discounts family. Inputs refuse what the product does not keep (a
rule's unknown field is a 400, never dropped); numbers are ASCII digits within int64 and date-times carry
an offset (config/api/fields.py)."""

import re
from decimal import Decimal, InvalidOperation

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api.fields import AwareDateTimeField
from config.api.fields import Int64Field as _Int64Field
from config.api.serializers import StrictInputSerializer
from config.kernel.text import unstorable
from config.kernel.values import INT64_MAX, INT64_MIN, ascii_int
from discounts import selectors, services
from discounts.models import DiscountClaim, DiscountRef, DiscountRule, UsageRef

INT32_MAX = 2**31 - 1


@extend_schema_field({"type": "integer", "format": "int64"})
class Int64Field(_Int64Field):
    """The shared int64 input (ASCII digits, int64 bounds), documented as an integer."""


class OpaqueIdField(serializers.CharField):
    """A client's own id (Dintero's `customer_id`, a receipt ref): 1 to 255 characters, kept exactly,
    without leading or trailing spaces."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_length", 1)
        kwargs.setdefault("max_length", 255)
        super().__init__(trim_whitespace=False, **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value != value.strip():
            raise serializers.ValidationError("Must not have leading or trailing spaces.")
        problem = unstorable(value)
        if problem is not None:
            raise serializers.ValidationError(problem)
        return value


class LimitField(Int64Field):
    """A limitation: a count from 1, or -1 for unlimited (the vendor's way), answered as given."""

    def __init__(self, **kwargs):
        super().__init__(min_value=-1, max_value=INT32_MAX, allow_null=True, required=False, **kwargs)

    def to_internal_value(self, data) -> int:
        number = super().to_internal_value(data)
        if number == 0:
            raise serializers.ValidationError("Must be -1 (unlimited) or at least 1.")
        return number


_DECIMAL = re.compile(r"-?[0-9]+\.[0-9]+")


@extend_schema_field(OpenApiTypes.NUMBER)
class RewardValueField(serializers.Field):
    """A reward's value: a whole number (minor units, items), or for percent rewards a decimal with up to
    four places (10.5). Answered as a JSON number, whole when it is whole."""

    default_error_messages = {
        "invalid": "Must be a number written with the digits 0-9, with at most 4 decimals.",
        "range": f"Must be between {INT64_MIN} and {INT64_MAX}.",
    }

    def to_internal_value(self, data) -> Decimal:
        whole = ascii_int(data, minimum=-(2**70), maximum=2**70) if not isinstance(data, float) else None
        if whole is not None:
            value = Decimal(whole)
        elif isinstance(data, float) or (isinstance(data, str) and _DECIMAL.fullmatch(data)):
            try:
                value = Decimal(repr(data) if isinstance(data, float) else data)
            except InvalidOperation:
                self.fail("invalid")
            if not value.is_finite() or value.as_tuple().exponent < -4:
                self.fail("invalid")
        else:
            self.fail("invalid")
        if not INT64_MIN <= value <= INT64_MAX:
            self.fail("range")
        return value

    def to_representation(self, value):
        value = Decimal(value)
        return int(value) if value == value.to_integral_value() else float(value.normalize())


class RewardSerializer(StrictInputSerializer):
    type = serializers.ChoiceField(choices=DiscountRule.RewardType.values)
    value = RewardValueField()


class RequirementSerializer(StrictInputSerializer):
    stamp = Int64Field(min_value=1, max_value=INT32_MAX, allow_null=True, required=False)
    gross_amount = Int64Field(min_value=0, allow_null=True, required=False)
    purchase_from = AwareDateTimeField(required=False)
    purchase_to = AwareDateTimeField(required=False, allow_null=True)


class LimitationSerializer(StrictInputSerializer):
    discount_repeat_usage = LimitField()
    discount_reward_usage = LimitField()


class LinkSerializer(StrictInputSerializer):
    href = serializers.URLField(max_length=2000)
    rel = serializers.CharField(max_length=200, required=False)
    type = serializers.CharField(max_length=200, required=False)


class DiscountRuleInputSerializer(StrictInputSerializer):
    """The vendor's rule shape (`requirement.purchase_from`/`purchase_to`), with today's top-level
    `purchase_from`/`purchase_to` kept as aliases."""

    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    active = serializers.BooleanField(required=False)
    private = serializers.BooleanField(required=False)
    type = serializers.ChoiceField(
        choices=["receipt"], required=False, help_text="Only receipt discounts: item requirements are not supported."
    )
    receipt_text = serializers.CharField(required=False, allow_blank=True, max_length=500)
    campaign_id = serializers.CharField(required=False, allow_blank=True, max_length=255)
    links = serializers.ListField(child=LinkSerializer(), required=False, max_length=50)
    purchase_from = AwareDateTimeField(required=False, help_text="Alias of requirement.purchase_from.")
    purchase_to = AwareDateTimeField(required=False, allow_null=True, help_text="Alias of requirement.purchase_to.")
    reward = RewardSerializer()
    requirement = RequirementSerializer(required=False)
    limitation = LimitationSerializer(required=False)
    metadata = serializers.DictField(required=False)

    def validate_metadata(self, value: dict) -> dict:
        problem = unstorable(value)
        if problem is not None:
            raise serializers.ValidationError(problem)
        return value

    def validate(self, data):
        requirement = data.get("requirement", {})
        for name in ("purchase_from", "purchase_to"):
            if name in data and name in requirement and data[name] != requirement[name]:
                raise serializers.ValidationError({name: [f"Differs from requirement.{name}; give one of them."]})
        return data


def rule_values(validated: dict) -> dict:
    """A rule body's validated values (DiscountRule*Serializer) as the services take them: reward,
    requirement and limitation flattened into the model's fields."""
    data = dict(validated)
    data.pop("type", None)
    reward = data.pop("reward")
    requirement = data.pop("requirement", {})
    limitation = data.pop("limitation", {})
    for name in ("purchase_from", "purchase_to"):
        if name in requirement:
            data[name] = requirement[name]
    if "links" in data:
        data["links"] = [dict(link) for link in data["links"]]
    data.update(
        reward_type=reward["type"],
        reward_value=reward["value"],
        requirement_stamp=requirement.get("stamp"),
        requirement_gross_amount=requirement.get("gross_amount"),
        limitation_repeat_usage=limitation.get("discount_repeat_usage"),
        limitation_reward_usage=limitation.get("discount_reward_usage"),
    )
    return data


class RuleRewardOutputSerializer(serializers.Serializer):
    type = serializers.CharField()
    value = RewardValueField()


class RuleRequirementOutputSerializer(serializers.Serializer):
    stamp = serializers.IntegerField(allow_null=True)
    gross_amount = serializers.IntegerField(allow_null=True)
    purchase_from = serializers.DateTimeField()
    purchase_to = serializers.DateTimeField(allow_null=True)


class RuleLimitationOutputSerializer(serializers.Serializer):
    discount_repeat_usage = serializers.IntegerField(allow_null=True)
    discount_reward_usage = serializers.IntegerField(allow_null=True)


class LinkOutputSerializer(serializers.Serializer):
    href = serializers.CharField()
    rel = serializers.CharField(required=False)
    type = serializers.CharField(required=False)


class DiscountRuleOutputSerializer(serializers.ModelSerializer):
    type = serializers.SerializerMethodField()
    links = LinkOutputSerializer(many=True)
    reward = serializers.SerializerMethodField()
    requirement = serializers.SerializerMethodField()
    limitation = serializers.SerializerMethodField()

    class Meta:
        model = DiscountRule
        fields = [
            "id",
            "name",
            "description",
            "active",
            "private",
            "type",
            "receipt_text",
            "campaign_id",
            "links",
            "purchase_from",
            "purchase_to",
            "reward",
            "requirement",
            "limitation",
            "metadata",
            "created_at",
            "created_by",
            "updated_at",
            "updated_by",
            "deleted_at",
            "deleted_by",
        ]
        read_only_fields = fields

    def get_type(self, rule) -> str:
        return "receipt"

    def get_reward(self, rule) -> RuleRewardOutputSerializer:
        return RuleRewardOutputSerializer({"type": rule.reward_type, "value": rule.reward_value}).data

    def get_requirement(self, rule) -> RuleRequirementOutputSerializer:
        return RuleRequirementOutputSerializer(
            {
                "stamp": rule.requirement_stamp,
                "gross_amount": rule.requirement_gross_amount,
                "purchase_from": rule.purchase_from,
                "purchase_to": rule.purchase_to,
            }
        ).data

    def get_limitation(self, rule) -> RuleLimitationOutputSerializer:
        return {
            "discount_repeat_usage": rule.limitation_repeat_usage,
            "discount_reward_usage": rule.limitation_reward_usage,
        }


class DiscountRuleUpdateSerializer(DiscountRuleInputSerializer):
    """The rule as read, written back: read-only fields are taken when they hold the rule's values (and
    ignored), refused when they differ."""

    resource_class = DiscountRuleOutputSerializer


class UsageRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = UsageRef
        fields = ["ref", "ref_type", "usage", "stamp", "amount", "created_at", "created_by"]
        read_only_fields = fields


class StatisticsSerializer(serializers.Serializer):
    stamp = serializers.IntegerField()
    used = serializers.IntegerField()
    usage = serializers.IntegerField()
    amount = serializers.IntegerField()
    debit_balance = serializers.IntegerField()
    current_stamp = serializers.IntegerField()


class DiscountUsageSerializer(serializers.ModelSerializer):
    """A discount ref as the seed's usages endpoint shows it (note the vendor's spelling `create_at`)."""

    ref_id = serializers.UUIDField(source="id")
    discount_id = serializers.UUIDField(source="rule_id")
    customer_id = serializers.SerializerMethodField()
    create_at = serializers.DateTimeField(source="created_at")
    usage_refs = UsageRefSerializer(source="entries", many=True)
    statistics = serializers.SerializerMethodField()

    class Meta:
        model = DiscountRef
        fields = [
            "id",
            "ref_id",
            "discount_id",
            "customer_id",
            "create_at",
            "updated_at",
            "created_by",
            "usage_refs",
            "statistics",
        ]
        read_only_fields = fields

    def get_customer_id(self, ref) -> str:
        return selectors.customer_key(ref.customer)

    def get_statistics(self, ref) -> StatisticsSerializer:
        return services.statistics(ref, ref.rule)


class DiscountCustomerSerializer(serializers.ModelSerializer):
    """One customer a rule was given to, as the vendor lists them."""

    customer_id = serializers.SerializerMethodField()
    deleted_at = serializers.SerializerMethodField()
    deleted_by = serializers.SerializerMethodField()

    class Meta:
        model = DiscountRef
        fields = ["id", "customer_id", "created_at", "created_by", "updated_at", "deleted_at", "deleted_by"]
        read_only_fields = fields

    def get_customer_id(self, ref) -> str:
        return selectors.customer_key(ref.customer)

    def get_deleted_at(self, ref) -> str | None:
        return None  # a given is never taken back

    def get_deleted_by(self, ref) -> str | None:
        return None


class GiveInputSerializer(StrictInputSerializer):
    customers = serializers.ListField(child=OpaqueIdField(), min_length=1, max_length=1000)


class ReceiptInputSerializer(StrictInputSerializer):
    customer_id = OpaqueIdField()
    ref = serializers.CharField(min_length=1, max_length=255)
    ref_type = serializers.ChoiceField(choices=UsageRef.RefType.values)
    usage = Int64Field(min_value=0, max_value=INT32_MAX, default=1)
    stamp = Int64Field(min_value=0, max_value=INT32_MAX, default=0)
    amount = Int64Field(min_value=0, default=0)
    purchase_at = AwareDateTimeField(required=False)


class ClaimRefSerializer(StrictInputSerializer):
    id = OpaqueIdField(help_text="The receipt line the reward was given on: the usage ref's `ref`.")
    amount = Int64Field(min_value=0, default=0)
    usage = Int64Field(min_value=0, max_value=INT32_MAX, default=1)


class ClaimDiscountSerializer(StrictInputSerializer):
    id = serializers.CharField(max_length=255, help_text="The discount rule id.")
    refs = serializers.ListField(child=ClaimRefSerializer(), min_length=1, max_length=100)

    def validate_refs(self, refs):
        ids = [r["id"] for r in refs]
        if len(set(ids)) != len(ids):
            raise serializers.ValidationError("Each ref id at most once per discount.")
        return refs


class ClaimInputSerializer(StrictInputSerializer):
    purchase_at = AwareDateTimeField()
    customer_id = OpaqueIdField()
    discounts = serializers.ListField(child=ClaimDiscountSerializer(), min_length=1, max_length=100)
    ref = OpaqueIdField(required=False, help_text="Unique per claim: the same ref again is a retry or a 409.")
    type = serializers.CharField(required=False, max_length=255, help_text='An external type, e.g. "pos".')

    def validate_discounts(self, discounts):
        ids = [d["id"] for d in discounts]
        if len(set(ids)) != len(ids):
            raise serializers.ValidationError("Each discount at most once per claim.")
        return discounts


class ClaimLineOutputSerializer(serializers.Serializer):
    id = serializers.CharField()
    amount = serializers.IntegerField()
    usage = serializers.IntegerField()


class ClaimDiscountOutputSerializer(serializers.Serializer):
    id = serializers.CharField()
    refs = ClaimLineOutputSerializer(many=True)


class DiscountClaimOutputSerializer(serializers.ModelSerializer):
    customer_id = serializers.CharField(source="customer_key")
    discounts = ClaimDiscountOutputSerializer(many=True)
    updated_at = serializers.DateTimeField(source="created_at")
    deleted_at = serializers.SerializerMethodField()
    deleted_by = serializers.SerializerMethodField()
    type = serializers.SerializerMethodField()

    class Meta:
        model = DiscountClaim
        fields = [
            "purchase_at",
            "customer_id",
            "discounts",
            "id",
            "created_at",
            "created_by",
            "updated_at",
            "deleted_by",
            "deleted_at",
            "ref",
            "type",
        ]
        read_only_fields = fields

    def get_deleted_at(self, claim) -> str | None:
        return None  # a claim is never deleted

    def get_deleted_by(self, claim) -> str | None:
        return None

    def get_type(self, claim) -> str | None:
        return claim.type or None


class TokenInputSerializer(StrictInputSerializer):
    grant_type = serializers.CharField(max_length=100, required=False)
    audience = serializers.CharField(max_length=500, required=False, allow_blank=True)


class TokenOutputSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    token_type = serializers.CharField()
    expires_in = serializers.IntegerField()
