from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api.serializers import StrictInputSerializer
from customers.api.family import DateTimeInput
from customers.models import Customer, Membership, MembershipType


@extend_schema_field(
    {"type": "string", "anyOf": [{"format": "email"}, {"maxLength": 0}], "description": "An e-mail address, or empty."}
)
class OptionalEmailField(serializers.CharField):
    """A customer's e-mail is optional and stored blank when unknown; the document must allow that."""


class CustomerOutputSerializer(serializers.ModelSerializer):
    email = OptionalEmailField(read_only=True)

    class Meta:
        model = Customer
        fields = [
            "id",
            "number",
            "email",
            "first_name",
            "last_name",
            "external_ref",
            "card_number",
            "barcode",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CustomerInputSerializer(StrictInputSerializer):
    email = serializers.EmailField(required=False, allow_blank=True, max_length=254)
    first_name = serializers.CharField(required=False, allow_blank=True, max_length=100)
    last_name = serializers.CharField(required=False, allow_blank=True, max_length=100)
    external_ref = serializers.CharField(required=False, allow_blank=True, max_length=255)
    card_number = serializers.RegexField(
        r"^[0-9]{1,20}\Z",
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=20,
        trim_whitespace=False,  # a padded number is refused, never silently read
        error_messages={"invalid": "A card number is a decimal number of up to 20 digits."},
    )
    barcode = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=128)
    pin = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=64,
        write_only=True,
        help_text="What the customer types at a terminal; the benefits family finds the customer by it "
        "(`?pin=`). Unique within the account; never answered back.",
    )


class CustomerUpdateSerializer(CustomerInputSerializer):
    """The customer as read, written back: read-only fields are taken when they hold the customer's values
    (and ignored), refused when they differ."""

    resource_class = CustomerOutputSerializer


class MembershipTypeOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = MembershipType
        fields = ["id", "name", "description", "created_at", "updated_at"]
        read_only_fields = fields


class MembershipTypeInputSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class MembershipOutputSerializer(serializers.ModelSerializer):
    customer_id = serializers.UUIDField()
    membership_type_id = serializers.UUIDField()

    class Meta:
        model = Membership
        fields = ["id", "customer_id", "membership_type_id", "status", "started_at", "ends_at", "created_at"]
        read_only_fields = fields


class MembershipInputSerializer(StrictInputSerializer):
    membership_type_id = serializers.UUIDField()
    started_at = DateTimeInput(required=False)
    ends_at = DateTimeInput(required=False, allow_null=True)
