from django.utils import timezone
from rest_framework import serializers

from config.api.serializers import StaticFieldsModelSerializer, StaticInputSerializer, StrictInputSerializer
from credits import durations
from credits.models import Coupon, CreditUse, CustomerCredit, MembershipCreditRule
from credits.services import COUPON_FIELDS
from credits.validation import BENEFIT_KEY_PATTERN, BENEFIT_KEY_VALIDATOR
from customers.api.family import DateTimeInput, IntegerInput

INT32_MAX = 2**31 - 1
ISSUING_FREQUENCIES = MembershipCreditRule.Frequency.values  # named in SPECTACULAR_SETTINGS' ENUM_NAME_OVERRIDES


class CouponOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Coupon
        fields = ["id", *COUPON_FIELDS, "created_at", "updated_at"]
        read_only_fields = fields


class CouponInputSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    # The pattern's message sits on the validator: a field's own error messages go through str.format, which
    # would read "{1,64}" as a placeholder (a KeyError, so a 500, for a benefit_key that is not a string).
    benefit_key = serializers.CharField(
        required=False,
        allow_null=True,
        trim_whitespace=False,  # a padded key is refused, never silently changed
        validators=[BENEFIT_KEY_VALIDATOR],
        help_text=f"Matches {BENEFIT_KEY_PATTERN}.",
    )
    kind = serializers.ChoiceField(choices=Coupon.Kind.choices, required=False)
    offering = serializers.CharField(required=False, allow_null=True, max_length=200)
    value = IntegerInput(required=False, allow_null=True, min_value=1)
    currency = serializers.RegexField(
        r"^[A-Z]{3}$", required=False, allow_null=True, error_messages={"invalid": "Must be an ISO 4217 code."}
    )
    multi_use = serializers.BooleanField(required=False)
    max_uses = IntegerInput(required=False, allow_null=True, min_value=1, max_value=INT32_MAX)
    valid_for = serializers.CharField(required=False, allow_null=True, max_length=32, trim_whitespace=False)
    default_revenue = IntegerInput(required=False, min_value=0)
    active = serializers.BooleanField(required=False)

    def validate_valid_for(self, value):
        if value:
            try:
                durations.parse(value)
            except ValueError:
                raise serializers.ValidationError("Must be an ISO 8601 duration such as P30D or P1M.") from None
        return value


class CouponUpdateSerializer(CouponInputSerializer):
    """The coupon as read, written back: read-only fields are taken when they hold the coupon's values (and
    ignored), refused when they differ."""

    resource_class = CouponOutputSerializer


class CreditCouponSerializer(StaticFieldsModelSerializer):
    class Meta:
        model = Coupon
        fields = ["id", "name", "benefit_key", "kind", "offering", "value", "currency"]
        read_only_fields = fields


class CreditOutputSerializer(StaticFieldsModelSerializer):
    customer_id = serializers.UUIDField()
    coupon_id = serializers.UUIDField()
    membership_id = serializers.UUIDField(allow_null=True)
    coupon = CreditCouponSerializer()
    status = serializers.SerializerMethodField()

    class Meta:
        model = CustomerCredit
        fields = [
            "id",
            "customer_id",
            "coupon_id",
            "coupon",
            "membership_id",
            "source",
            "multi_use",
            "max_uses",
            "uses",
            "status",
            "expiry_date",
            "revenue",
            "remaining_value",
            "redeemed_at",
            "revoked_at",
            "revoke_reason",
            "issued_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_status(self, credit: CustomerCredit) -> str:
        # One clock for the whole answer, so a page never mixes two views of "now".
        now = self.context.setdefault("now", timezone.now())
        return credit.status_at(now)


class CreditIssueInputSerializer(StrictInputSerializer):
    """The body of an issue. Whether the coupon and membership may be used is the service's to say
    (credits.services.credit_issue); this only reads the values, and that the customer is the path's."""

    coupon_id = serializers.UUIDField()
    customer_id = serializers.UUIDField()
    membership_id = serializers.UUIDField(required=False, allow_null=True)
    expiry_date = DateTimeInput(required=False, allow_null=True)
    revenue = IntegerInput(required=False, allow_null=True, min_value=0)

    def validate_customer_id(self, value):
        if value != self.context["customer"].pk:
            raise serializers.ValidationError("Must be the customer of the path.")
        return value


class CreditRedeemInputSerializer(StaticInputSerializer):
    reference = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=255)
    note = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=5000)
    amount = IntegerInput(
        required=False,
        allow_null=True,
        min_value=1,
        help_text="Monetary credits only: the money this use spends, in minor units, at most the credit's "
        "remaining_value. Absent: the whole remaining value (a limited multi-use credit: an even share of it "
        "over its uses left). Refused (422) on any other credit.",
    )


class CreditRevokeInputSerializer(StrictInputSerializer):
    reason = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=5000)


class CreditUseOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = CreditUse
        fields = ["id", "used_at", "reference", "note", "revenue", "amount", "used_by", "reversed_at", "reversed_by"]
        read_only_fields = fields


class CreditUseListSerializer(serializers.Serializer):
    data = CreditUseOutputSerializer(many=True)


class MembershipCreditRuleOutputSerializer(serializers.ModelSerializer):
    membership_type_id = serializers.UUIDField()
    coupon_id = serializers.UUIDField()

    class Meta:
        model = MembershipCreditRule
        fields = [
            "id",
            "membership_type_id",
            "coupon_id",
            "issuing_frequency",
            "roll_over",
            "issue_on_signup",
            "quantity",
            "active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class MembershipCreditRuleInputSerializer(StrictInputSerializer):
    membership_type_id = serializers.UUIDField()
    coupon_id = serializers.UUIDField()
    issuing_frequency = serializers.ChoiceField(choices=ISSUING_FREQUENCIES, required=False)
    roll_over = serializers.BooleanField(required=False)
    issue_on_signup = serializers.BooleanField(required=False)
    quantity = IntegerInput(required=False, min_value=1, max_value=1000)
    active = serializers.BooleanField(required=False)


class MembershipCreditRuleUpdateSerializer(MembershipCreditRuleInputSerializer):
    """The rule as read, written back: read-only fields are taken when they hold the rule's values (and
    ignored), refused when they differ."""

    resource_class = MembershipCreditRuleOutputSerializer
