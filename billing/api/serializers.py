"""Shapes of the billing family's bodies, for the OpenAPI document and for the answers."""

from rest_framework import serializers

from billing.models import BillingAccount, BillingTransaction, Project


class Int64Field(serializers.CharField):
    """Documented as the vendor's int64: a JSON number or a string of decimal digits."""


class UsageInSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="Used as an idempotency key.")
    customer_id = serializers.CharField(required=False, help_text="Ignored.")
    source = serializers.CharField(required=False, help_text="Stored lower case; default `system`.")
    description = serializers.CharField(required=False)
    type = serializers.ChoiceField(choices=["credit", "feature", ""], required=False)
    amount = Int64Field(help_text="int64 >= 0, as a number or a string of digits.")
    user_id = serializers.CharField(required=False)
    metadata = serializers.DictField(required=False)
    created_at = serializers.DateTimeField(required=False, help_text="Ignored.")
    updated_at = serializers.DateTimeField(required=False, help_text="Ignored.")


class UsageReportSerializer(serializers.Serializer):
    org_id = serializers.UUIDField(required=False)
    billing_id = serializers.UUIDField(required=False)
    project_id = serializers.UUIDField(required=False)
    usages = UsageInSerializer(many=True)


class UsageReportInPathSerializer(serializers.Serializer):
    project_id = serializers.UUIDField(required=False)
    usages = UsageInSerializer(many=True)


class EmptySerializer(serializers.Serializer):
    pass


class BillingAccountSerializer(serializers.ModelSerializer):
    org_id = serializers.UUIDField(source="customer_id")

    class Meta:
        model = BillingAccount
        fields = ["id", "org_id", "currency", "credit_min", "balance", "created_at", "updated_at"]
        read_only_fields = fields


class BillingAccountEnvelope(serializers.Serializer):
    billing_account = BillingAccountSerializer()


class BillingAccountList(serializers.Serializer):
    billing_accounts = BillingAccountSerializer(many=True)


class BillingAccountCreateSerializer(serializers.Serializer):
    currency = serializers.CharField(required=False, max_length=8, allow_blank=True)
    credit_min = Int64Field(required=False)


class LimitsSerializer(serializers.Serializer):
    credit_min = Int64Field()


class TransactionSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="usage_id")
    customer_id = serializers.UUIDField(source="billing_account_id", help_text="The billing account id.")

    class Meta:
        model = BillingTransaction
        fields = [
            "id",
            "customer_id",
            "source",
            "amount",
            "type",
            "description",
            "user_id",
            "metadata",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class TransactionEnvelope(serializers.Serializer):
    transaction = TransactionSerializer()


class TransactionPage(serializers.Serializer):
    transactions = TransactionSerializer(many=True)
    next_page_token = serializers.CharField()


class TopUpSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    amount = Int64Field()
    source = serializers.CharField(required=False)
    description = serializers.CharField(required=False)
    metadata = serializers.DictField(required=False)


class AmountSerializer(serializers.Serializer):
    amount = serializers.IntegerField()
    currency = serializers.CharField()


class BalanceSerializer(serializers.Serializer):
    amount = serializers.IntegerField()
    currency = serializers.CharField()
    updated_at = serializers.DateTimeField()


class BalanceEnvelope(serializers.Serializer):
    balance = BalanceSerializer()


class DebitedEnvelope(serializers.Serializer):
    debited = AmountSerializer()


class CheckSerializer(serializers.Serializer):
    org_id = serializers.UUIDField()
    amount = Int64Field()


class CheckResultSerializer(serializers.Serializer):
    status = serializers.BooleanField()


class RevertSerializer(serializers.Serializer):
    org_id = serializers.UUIDField()
    usage_id = serializers.UUIDField()
    amount = Int64Field()


class ProjectSerializer(serializers.ModelSerializer):
    org_id = serializers.UUIDField(source="customer_id")

    class Meta:
        model = Project
        fields = ["id", "org_id", "name", "created_at", "updated_at"]
        read_only_fields = fields


class ProjectEnvelope(serializers.Serializer):
    project = ProjectSerializer()


class ProjectList(serializers.Serializer):
    projects = ProjectSerializer(many=True)


class ProjectCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
