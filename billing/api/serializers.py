"""The billing family's bodies. Input serializers validate every write but usage batches (those are parsed
by billing/api/parsing.py, the ingestion hot path; `UsageInSerializer` documents them and holds the limits
that parser enforces). Output serializers write int64 values as JSON strings, as proto3 JSON does, and
every field of a message, empty or not."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from billing.models import BillingAccount, BillingTransaction, Project
from billing.selectors import TRANSACTION_SHOWN
from billing.services import MAX_BATCH
from config.api.fields import AwareDateTimeField, Int64Field
from config.api.serializers import StrictInputSerializer
from config.kernel.text import unstorable
from config.kernel.values import INT64_MAX

# The limits of a usage, shared by the documented serializer and the hand parser (a test holds them equal).
SOURCE_MAX = 255
USER_ID_MAX = 255
DESCRIPTION_MAX = 5000
AMOUNT_MIN = 1  # the vendor refuses a usage amount of 0
AMOUNT_MAX = INT64_MAX


class StrictSerializer(StrictInputSerializer):
    # Refuses a field it does not know (400), rather than dropping it, in the family's words.
    # (A comment, not a docstring: drf-spectacular would show it as every subclass's description.)

    unknown_field_message = "Not a field of this request."


class StorableJSONField(serializers.JSONField):
    """A JSON value PostgreSQL can store (no NUL, no lone surrogate, not nested too deep)."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        problem = unstorable(value)
        if problem is not None:
            raise serializers.ValidationError(problem)
        return value


class ObjectField(StorableJSONField):
    """A JSON object (google.protobuf.Struct)."""

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError("Must be an object.")
        return super().to_internal_value(data)


class Text(serializers.CharField):
    """A string kept as given (no trimming), possibly empty."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("trim_whitespace", False)
        kwargs.setdefault("default", "")
        super().__init__(**kwargs)


class LowerText(Text):
    """A string stored lower case: lower-cased here, so that its length is checked as it will be stored
    ("İ" is two characters lower-cased)."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = data.lower()
        return super().to_internal_value(data)


# --- usages (documentation of the hand-parsed body) ----------------------------------------------


class UsageInSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="Used as an idempotency key.")
    customer_id = serializers.CharField(required=False, help_text="Ignored.")
    source = serializers.CharField(
        required=False, allow_blank=True, max_length=SOURCE_MAX, help_text="Stored lower case; default `system`."
    )
    description = serializers.CharField(required=False, allow_blank=True, max_length=DESCRIPTION_MAX)
    type = serializers.ChoiceField(choices=["credit", "feature", ""], required=False)
    amount = Int64Field(min_value=AMOUNT_MIN, max_value=AMOUNT_MAX, help_text="int64 > 0, a number or a string.")
    user_id = serializers.CharField(required=False, allow_blank=True, max_length=USER_ID_MAX)
    metadata = ObjectField(required=False)
    created_at = serializers.DateTimeField(required=False, help_text="Ignored.")
    updated_at = serializers.DateTimeField(required=False, help_text="Ignored.")


class UsageReportSerializer(serializers.Serializer):
    org_id = serializers.UUIDField(required=False)
    billing_id = serializers.UUIDField(required=False)
    project_id = serializers.UUIDField(required=False)
    usages = serializers.ListField(child=UsageInSerializer(), max_length=MAX_BATCH)


class UsageReportInPathSerializer(serializers.Serializer):
    project_id = serializers.UUIDField(required=False)
    usages = serializers.ListField(child=UsageInSerializer(), max_length=MAX_BATCH)


class EmptySerializer(serializers.Serializer):
    pass


# --- inputs --------------------------------------------------------------------------------------


class AddressSerializer(StrictSerializer):
    line1 = Text(max_length=255)
    line2 = Text(max_length=255)
    city = Text(max_length=255)
    state = Text(max_length=255)
    postal_code = Text(max_length=255)
    country = Text(max_length=255)


class TaxSerializer(StrictSerializer):
    type = Text(max_length=255)
    id = Text(max_length=255)


class BillingAccountBodySerializer(StrictSerializer):
    """The vendor's BillingAccountRequestBody."""

    name = Text(max_length=255)
    email = Text(max_length=255)
    phone = Text(max_length=255)
    address = AddressSerializer(required=False)
    currency = Text(max_length=8)
    tax_data = TaxSerializer(many=True, required=False)
    metadata = ObjectField(required=False, default=dict)


class BillingAccountCreateInputSerializer(StrictSerializer):
    """The vendor's shape `{"body": {...}, "offline": bool}`; the earlier flat shape `{"currency",
    "credit_min"}` is still read when `body` is absent. Unknown fields are refused, never dropped."""

    body = BillingAccountBodySerializer(required=False)
    offline = serializers.BooleanField(required=False, help_text="Accepted; every account here is offline.")
    currency = Text(max_length=8, help_text="The earlier flat shape.")
    credit_min = Int64Field(required=False, default=0, help_text="An extension: 0 or less.")


class LimitsInputSerializer(StrictSerializer):
    credit_min = Int64Field(help_text="The lowest balance allowed: negative allows an overdraft.")


class TopUpInputSerializer(StrictSerializer):
    id = serializers.UUIDField(help_text="Used as an idempotency key.")
    amount = Int64Field(min_value=1, help_text="int64 > 0, a number or a string.")
    source = LowerText(max_length=SOURCE_MAX, help_text="Stored lower case; default `system.awarded`.")
    description = Text(max_length=DESCRIPTION_MAX)
    metadata = ObjectField(required=False, default=dict)


class CheckInputSerializer(StrictSerializer):
    org_id = serializers.UUIDField()
    amount = Int64Field(min_value=0, required=False, default=0, help_text="int64 >= 0, a number or a string.")


class RevertInputSerializer(StrictSerializer):
    org_id = serializers.UUIDField()
    project_id = serializers.CharField(required=False, allow_blank=True, help_text="Ignored when org_id is given.")
    billing_id = serializers.UUIDField(required=False)
    usage_id = serializers.UUIDField()
    amount = Int64Field(min_value=1, help_text="int64 > 0, at most what is left of the usage to revert.")


class AdminRevertInputSerializer(StrictSerializer):
    project_id = serializers.CharField(required=False, allow_blank=True, help_text="Ignored.")
    amount = Int64Field(min_value=1, help_text="int64 > 0, at most what is left of the usage to revert.")


class ProjectCreateInputSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200)


class TransactionQuerySerializer(serializers.Serializer):
    start_range = AwareDateTimeField(required=False, help_text="RFC 3339 with an offset; inclusive.")
    end_range = AwareDateTimeField(required=False, help_text="RFC 3339 with an offset; exclusive.")
    since = AwareDateTimeField(required=False, help_text="Deprecated by the vendor: start_range when that is absent.")
    expand = serializers.ListField(child=serializers.CharField(), required=False, help_text="Accepted, ignored.")


class OrgTransactionQuerySerializer(TransactionQuerySerializer):
    billing_id = serializers.UUIDField(required=False, help_text="Default: the organization's first account.")


# --- outputs -------------------------------------------------------------------------------------


class AddressOutSerializer(serializers.Serializer):
    line1 = serializers.CharField(default="")
    line2 = serializers.CharField(default="")
    city = serializers.CharField(default="")
    state = serializers.CharField(default="")
    postal_code = serializers.CharField(default="")
    country = serializers.CharField(default="")

    def to_representation(self, instance):
        instance = instance or {}
        return {name: str(instance.get(name, "")) for name in self.fields}


class BillingAccountSerializer(serializers.ModelSerializer):
    """The vendor's BillingAccount, every field present, plus `credit_min` and `balance` (extensions)."""

    org_id = serializers.UUIDField(source="customer_id")
    address = AddressOutSerializer()
    provider_id = serializers.SerializerMethodField()
    provider = serializers.SerializerMethodField()
    state = serializers.SerializerMethodField()
    tax_data = serializers.ListField(child=serializers.DictField())
    metadata = serializers.DictField()
    credit_min = Int64Field(as_string=True, read_only=True)
    balance = Int64Field(as_string=True, read_only=True)

    class Meta:
        model = BillingAccount
        fields = [
            "id",
            "org_id",
            "name",
            "email",
            "phone",
            "address",
            "provider_id",
            "provider",
            "currency",
            "state",
            "tax_data",
            "metadata",
            "created_at",
            "updated_at",
            "credit_min",
            "balance",
        ]
        read_only_fields = fields

    def get_provider_id(self, obj) -> str:
        return ""

    def get_provider(self, obj) -> str:
        return ""

    def get_state(self, obj) -> str:
        return "active"


class BillingDetailsSerializer(serializers.Serializer):
    credit_min = Int64Field(as_string=True, read_only=True)
    due_in_days = Int64Field(as_string=True, read_only=True)


def billing_details(account: BillingAccount) -> dict:
    """The billing details of `account` (the vendor's BillingAccount.Details: no invoices here, so no
    due days), with the ids that name it."""
    return {"org_id": account.customer_id, "id": account.pk, "credit_min": account.credit_min, "due_in_days": 0}


class BillingLimitsSerializer(BillingDetailsSerializer):
    """A billing account's limits: its billing details and the ids of the account."""

    org_id = serializers.UUIDField(read_only=True)
    id = serializers.UUIDField(read_only=True)


class LimitsUpdateSerializer(LimitsInputSerializer):
    """The billing details as read (`billing_details` of the billing account), written back: the read-only
    fields are taken when they hold the account's values (and ignored), refused when they differ."""

    resource_class = BillingLimitsSerializer


class BillingAccountEnvelope(serializers.Serializer):
    billing_account = BillingAccountSerializer()


class BillingAccountGetSerializer(serializers.Serializer):
    billing_account = BillingAccountSerializer()
    payment_methods = serializers.ListField(child=serializers.DictField())
    billing_details = BillingDetailsSerializer()


@extend_schema_serializer(many=False)  # the vendor's list message, not an array
class BillingAccountList(serializers.Serializer):
    billing_accounts = BillingAccountSerializer(many=True)


class TransactionSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="usage_id")
    customer_id = serializers.UUIDField(source="billing_account_id", help_text="The billing account id.")
    amount = Int64Field(as_string=True, read_only=True)

    class Meta:
        model = BillingTransaction
        fields = ["id", "customer_id", *TRANSACTION_SHOWN]
        read_only_fields = fields


class TransactionEnvelope(serializers.Serializer):
    transaction = TransactionSerializer()


class BalanceSerializer(serializers.Serializer):
    amount = Int64Field(as_string=True, read_only=True)
    currency = serializers.CharField()
    updated_at = serializers.DateTimeField()


class BalanceEnvelope(serializers.Serializer):
    balance = BalanceSerializer()


class DebitedEnvelope(serializers.Serializer):
    debited = BalanceSerializer()


class CheckResultSerializer(serializers.Serializer):
    status = serializers.BooleanField()


class ProjectSerializer(serializers.ModelSerializer):
    org_id = serializers.UUIDField(source="customer_id")

    class Meta:
        model = Project
        fields = ["id", "org_id", "name", "created_at", "updated_at"]
        read_only_fields = fields


class ProjectEnvelope(serializers.Serializer):
    project = ProjectSerializer()


@extend_schema_serializer(many=False)  # the vendor's list message, not an array
class ProjectList(serializers.Serializer):
    projects = ProjectSerializer(many=True)
