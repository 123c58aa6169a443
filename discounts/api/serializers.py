from rest_framework import serializers

from config.kernel.text import unstorable
from config.kernel.values import INT64_MAX
from discounts import services
from discounts.models import DiscountRef, DiscountRule, UsageRef


class RewardSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=DiscountRule.RewardType.values)
    value = serializers.IntegerField(min_value=0, max_value=INT64_MAX)


class RequirementSerializer(serializers.Serializer):
    stamp = serializers.IntegerField(min_value=1, max_value=2**31 - 1, allow_null=True, required=False)
    gross_amount = serializers.IntegerField(min_value=0, max_value=INT64_MAX, allow_null=True, required=False)


class LimitationSerializer(serializers.Serializer):
    discount_repeat_usage = serializers.IntegerField(min_value=1, max_value=2**31 - 1, allow_null=True, required=False)
    discount_reward_usage = serializers.IntegerField(min_value=1, max_value=2**31 - 1, allow_null=True, required=False)


class DiscountRuleInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    active = serializers.BooleanField(required=False)
    private = serializers.BooleanField(required=False)
    purchase_from = serializers.DateTimeField(required=False)
    purchase_to = serializers.DateTimeField(required=False, allow_null=True)
    reward = RewardSerializer()
    requirement = RequirementSerializer(required=False)
    limitation = LimitationSerializer(required=False)
    metadata = serializers.DictField(required=False)

    def validate_metadata(self, value: dict) -> dict:
        problem = unstorable(value)
        if problem is not None:
            raise serializers.ValidationError(problem)
        return value

    def to_values(self) -> dict:
        data = dict(self.validated_data)
        reward = data.pop("reward")
        requirement = data.pop("requirement", {})
        limitation = data.pop("limitation", {})
        data.update(
            reward_type=reward["type"],
            reward_value=reward["value"],
            requirement_stamp=requirement.get("stamp"),
            requirement_gross_amount=requirement.get("gross_amount"),
            limitation_repeat_usage=limitation.get("discount_repeat_usage"),
            limitation_reward_usage=limitation.get("discount_reward_usage"),
        )
        return data


class DiscountRuleOutputSerializer(serializers.ModelSerializer):
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

    def get_reward(self, rule) -> RewardSerializer:
        return {"type": rule.reward_type, "value": rule.reward_value}

    def get_requirement(self, rule) -> RequirementSerializer:
        return {"stamp": rule.requirement_stamp, "gross_amount": rule.requirement_gross_amount}

    def get_limitation(self, rule) -> LimitationSerializer:
        return {
            "discount_repeat_usage": rule.limitation_repeat_usage,
            "discount_reward_usage": rule.limitation_reward_usage,
        }


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
    customer_id = serializers.UUIDField()
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

    def get_statistics(self, ref) -> StatisticsSerializer:
        return services.statistics(ref, ref.rule)


class DiscountCustomerSerializer(serializers.ModelSerializer):
    ref_id = serializers.UUIDField(source="id")
    discount_id = serializers.UUIDField(source="rule_id")
    customer_id = serializers.UUIDField()

    class Meta:
        model = DiscountRef
        fields = ["ref_id", "discount_id", "customer_id", "created_at", "created_by"]
        read_only_fields = fields


class GiveInputSerializer(serializers.Serializer):
    customers = serializers.ListField(child=serializers.UUIDField(), min_length=1, max_length=1000)


class ReceiptInputSerializer(serializers.Serializer):
    customer_id = serializers.UUIDField()
    ref = serializers.CharField(min_length=1, max_length=255)
    ref_type = serializers.ChoiceField(choices=UsageRef.RefType.values)
    usage = serializers.IntegerField(min_value=0, max_value=2**31 - 1, default=1)
    stamp = serializers.IntegerField(min_value=0, max_value=2**31 - 1, default=0)
    amount = serializers.IntegerField(min_value=0, max_value=INT64_MAX, default=0)
    purchase_at = serializers.DateTimeField(required=False)


class TokenInputSerializer(serializers.Serializer):
    grant_type = serializers.CharField(max_length=100)
    audience = serializers.CharField(max_length=500, required=False, allow_blank=True)


class TokenOutputSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    token_type = serializers.CharField()
    expires_in = serializers.IntegerField()
