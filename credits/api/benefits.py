"""The benefits family (Magicline-style): a customer's contingent for a benefit key is their credits
whose coupon carries that key; using a benefit uses one of those credits, through credits.services."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from config.api.views import FamilyAPIView
from config.kernel.exceptions import InvalidInput, NotFound
from config.kernel.values import INT64_MAX, INT64_MIN
from credits import selectors, services
from credits.api.benefits_family import NAME
from customers import cards
from customers.models import Customer

READ = ("CUSTOMER_BENEFIT_READ", "CUSTOMER_READ")
WRITE = ("CUSTOMER_WRITE", "CUSTOMER_BENEFIT_WRITE")
DEPRECATED_SINCE = datetime(2026, 1, 1, tzinfo=UTC)
DEPRECATION = f"@{int(DEPRECATED_SINCE.timestamp())}"  # RFC 9745


class BenefitSerializer(serializers.Serializer):
    key = serializers.CharField()
    valid = serializers.BooleanField(help_text="True when the customer has at least one active credit with this key.")


CUSTOMER_ID = OpenApiParameter(
    "customerId", OpenApiTypes.INT64, OpenApiParameter.PATH, description="The customer's number (int64)."
)
BENEFIT_KEY = OpenApiParameter("benefitKey", str, OpenApiParameter.PATH, description="Key of the benefit to use.")
KEYS = OpenApiParameter(
    "key",
    {"type": "array", "items": {"type": "string"}},
    OpenApiParameter.QUERY,
    required=False,
    explode=True,
    description="Only these benefit keys, in this order (repeat the parameter).",
)
CARD_LOOKUP = [
    OpenApiParameter(
        "cardNumber", str, OpenApiParameter.QUERY, required=False, description="The customer's card number."
    ),
    OpenApiParameter(
        "cardNumberFormat",
        str,
        OpenApiParameter.QUERY,
        required=False,
        enum=list(cards.FORMATS),
        default="DECIMAL",
        description="How cardNumber is written: DECIMAL, HEX_MSB (most significant byte first) or HEX_LSB (reversed).",
    ),
    OpenApiParameter("barcode", str, OpenApiParameter.QUERY, required=False, description="The customer's barcode."),
]
NO_CONTENT = {204: OpenApiResponse(description="The benefit was used.")}


def customer_number(raw: str) -> int:
    try:
        number = int(raw)
    except ValueError:
        number = None
    if number is None or not raw.lstrip("-").isdigit() or not INT64_MIN <= number <= INT64_MAX:
        raise InvalidInput.single("customerId", f"customerId must be an int64, not {raw!r}.", code="request.invalid")
    return number


def text_param(value: str, name: str) -> str:
    """A text parameter as given; a NUL character, which no stored key or identifier holds and PostgreSQL
    cannot compare, is a 400 naming the parameter."""
    if "\x00" in value:
        raise InvalidInput.single(name, f"{name} must not contain NUL characters.", code="request.invalid")
    return value


def customer_lookup(params) -> dict:
    """Exactly one of `cardNumber` (in `cardNumberFormat`) or `barcode` finds the customer."""
    card_numbers, barcodes = params.getlist("cardNumber"), params.getlist("barcode")
    given = len(card_numbers) + len(barcodes)
    if given == 0:
        raise InvalidInput.single(
            "cardNumber", "Give exactly one of cardNumber or barcode.", code="customer.identifier_missing"
        )
    if given > 1:
        raise InvalidInput.single(
            "barcode" if barcodes else "cardNumber",
            "Give exactly one of cardNumber or barcode, once.",
            code="customer.identifier_ambiguous",
        )
    if barcodes:
        return {"barcode": text_param(barcodes[0], "barcode")}
    card_format = params.get("cardNumberFormat", "DECIMAL")
    if card_format not in cards.FORMATS:
        raise InvalidInput.single(
            "cardNumberFormat", f"cardNumberFormat must be one of {', '.join(cards.FORMATS)}.", code="request.invalid"
        )
    try:
        return {"card_number": cards.to_decimal(card_numbers[0], card_format)}
    except ValueError as exc:
        raise InvalidInput.single("cardNumber", str(exc), code="request.invalid") from None


class BenefitsFamilyView(FamilyAPIView):
    dialect = NAME
    pagination_class = None
    filter_backends = []

    def benefits_response(self, lookup: dict) -> Response:
        customer = Customer.objects.filter(account=self.account, **lookup).first()
        if customer is None:
            raise NotFound("Customer not found.", code="customer.not_found")
        keys = [text_param(key, "key") for key in self.request.query_params.getlist("key")] or None
        benefits = selectors.benefits_of(customer=customer, keys=keys)
        return Response(BenefitSerializer(benefits, many=True).data)

    def use(self, lookup: dict, benefit_key: str) -> Response:
        text_param(benefit_key, "benefitKey")
        services.benefit_use(account=self.account, customer_lookup=lookup, benefit_key=benefit_key, actor=self.actor)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeprecatedEndpoint:
    """Every answer of a deprecated endpoint, errors included, names the deprecation and the successor."""

    def successor(self) -> str:
        raise NotImplementedError

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Deprecation"] = DEPRECATION
        response["Link"] = f'<{self.successor()}>; rel="successor-version"'
        return response


class CustomerBenefitsView(DeprecatedEndpoint, BenefitsFamilyView):
    required_scopes = {"GET": READ}
    error_statuses = {"GET": (400, 404)}

    def successor(self) -> str:
        return "/v1/customers/benefits"

    @extend_schema(
        operation_id="getCustomerBenefits",
        summary="Get customer's benefits",
        description="Deprecated: use `GET /v1/customers/benefits`, which finds the customer by card or barcode. "
        "Answers whether the customer may use each benefit key.",
        deprecated=True,
        parameters=[CUSTOMER_ID, KEYS],
        responses=BenefitSerializer(many=True),
    )
    def get(self, request, customerId):
        return self.benefits_response({"number": customer_number(customerId)})


class CustomerBenefitUseView(DeprecatedEndpoint, BenefitsFamilyView):
    required_scopes = {"POST": WRITE}
    error_statuses = {"POST": (400, 404, 409)}

    def successor(self) -> str:
        # Percent-encoded: the path's key may hold any character, and a header value may not hold CR or LF.
        return f"/v1/customers/benefits/{quote(self.kwargs.get('benefitKey', ''), safe='')}/use"

    @extend_schema(
        operation_id="postCustomerBenefitUsage",
        summary="Post customer's benefit usage",
        description="Deprecated: use `POST /v1/customers/benefits/{benefitKey}/use`. Uses one credit carrying the "
        "key, soonest expiry first; 409 `benefit.not_available` when none is active.",
        deprecated=True,
        parameters=[CUSTOMER_ID, BENEFIT_KEY],
        request=None,
        responses=NO_CONTENT,
    )
    def post(self, request, customerId, benefitKey):
        return self.use({"number": customer_number(customerId)}, benefitKey)


class BenefitsByCardView(BenefitsFamilyView):
    required_scopes = {"GET": READ}
    error_statuses = {"GET": (400, 404)}

    @extend_schema(
        operation_id="getBenefitsByCard",
        summary="Get a customer's benefits by card number or barcode",
        parameters=[*CARD_LOOKUP, KEYS],
        responses=BenefitSerializer(many=True),
    )
    def get(self, request):
        return self.benefits_response(customer_lookup(request.query_params))


class BenefitUseByCardView(BenefitsFamilyView):
    required_scopes = {"POST": WRITE}
    error_statuses = {"POST": (400, 404, 409)}

    @extend_schema(
        operation_id="postBenefitUsageByCard",
        summary="Post a benefit usage, finding the customer by card number or barcode",
        parameters=[BENEFIT_KEY, *CARD_LOOKUP],
        request=None,
        responses=NO_CONTENT,
    )
    def post(self, request, benefitKey):
        return self.use(customer_lookup(request.query_params), benefitKey)
