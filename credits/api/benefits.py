"""The benefits family (Magicline-style): a customer's contingent for a benefit key is their credits
whose coupon carries that key; using a benefit uses one of those credits, through credits.services.
One viewset: its four actions are routed to the vendor's paths in credits/api/urls.py."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from config.api.views import ActionRoutedViewSetMixin
from config.kernel.exceptions import InvalidInput
from config.kernel.values import ascii_int
from credits import selectors, services
from credits.api.benefits_family import BenefitsFamilyView
from customers import cards
from customers import selectors as customer_selectors

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
    OpenApiParameter(
        "pin", str, OpenApiParameter.QUERY, required=False, description="The PIN the customer types at a terminal."
    ),
]
# The successors find the customer by exactly one of these (query parameter: Customer field).
IDENTIFIERS = {"cardNumber": "card_number", "barcode": "barcode", "pin": "pin"}
ONE_OF = "Give exactly one of cardNumber, barcode or pin"
NO_CONTENT = {204: OpenApiResponse(description="The benefit was used.")}


def customer_number(raw: str) -> int:
    """The path's customerId: an int64 in ASCII digits (no "١٢٣", no " 5", nothing past int64)."""
    number = ascii_int(raw)
    if number is None:
        raise InvalidInput.single("customerId", f"customerId must be an int64, not {raw!r}.", code="request.invalid")
    return number


def text_param(value: str, name: str) -> str:
    """A text parameter as given; a NUL character, which no stored key or identifier holds and PostgreSQL
    cannot compare, is a 400 naming the parameter."""
    if "\x00" in value:
        raise InvalidInput.single(name, f"{name} must not contain NUL characters.", code="request.invalid")
    return value


def customer_lookup(params) -> dict:
    """Exactly one of `cardNumber` (in `cardNumberFormat`), `barcode` or `pin` finds the customer."""
    given = [(name, value) for name in IDENTIFIERS for value in params.getlist(name)]
    if not given:
        raise InvalidInput.single("cardNumber", f"{ONE_OF}.", code="customer.identifier_missing")
    if len(given) > 1:
        # The reference names the last identifier kind given (the one too many).
        raise InvalidInput.single(given[-1][0], f"{ONE_OF}, once.", code="customer.identifier_ambiguous")
    name, value = given[0]
    if name != "cardNumber":
        return {IDENTIFIERS[name]: text_param(value, name)}
    card_format = params.get("cardNumberFormat", "DECIMAL")
    if card_format not in cards.FORMATS:
        raise InvalidInput.single(
            "cardNumberFormat", f"cardNumberFormat must be one of {', '.join(cards.FORMATS)}.", code="request.invalid"
        )
    try:
        return {"card_number": cards.to_decimal(value, card_format)}
    except ValueError as exc:
        raise InvalidInput.single("cardNumber", str(exc), code="request.invalid") from None


DEPRECATED_ACTIONS = {"customer_benefits", "customer_benefit_use"}


class BenefitViewSet(ActionRoutedViewSetMixin, BenefitsFamilyView):
    """A customer's benefits: eligibility (GET) and use (POST), by customer number (deprecated) or by card
    number, barcode or PIN (the successors). Every answer of a deprecated action, errors included, names the
    deprecation and the successor."""

    pagination_class = None
    filter_backends = []
    action_scopes = {"customer_benefits": READ, "benefits": READ, "customer_benefit_use": WRITE, "benefit_use": WRITE}
    action_error_statuses = {
        "customer_benefits": (400, 404),
        "benefits": (400, 404),
        "customer_benefit_use": (400, 404, 409),
        "benefit_use": (400, 404, 409),
    }

    def benefits_response(self, lookup: dict) -> Response:
        customer = customer_selectors.customer_find(account=self.account, **lookup)
        keys = [text_param(key, "key") for key in self.request.query_params.getlist("key")] or None
        benefits = selectors.benefits_of(customer=customer, keys=keys)
        return Response(BenefitSerializer(benefits, many=True).data)

    def use(self, lookup: dict, benefit_key: str) -> Response:
        text_param(benefit_key, "benefitKey")
        services.benefit_use(account=self.account, customer_lookup=lookup, benefit_key=benefit_key, actor=self.actor)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def successor(self) -> str:
        if self.action == "customer_benefit_use":
            # Percent-encoded: the path's key may hold any character, and a header value may not hold CR or LF.
            return f"/v1/customers/benefits/{quote(self.kwargs.get('benefitKey', ''), safe='')}/use"
        return "/v1/customers/benefits"

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if self.action in DEPRECATED_ACTIONS:
            response["Deprecation"] = DEPRECATION
            response["Link"] = f'<{self.successor()}>; rel="successor-version"'
        return response

    @extend_schema(
        operation_id="getCustomerBenefits",
        summary="Get customer's benefits",
        description="Deprecated: use `GET /v1/customers/benefits`, which finds the customer by card number, "
        "barcode or PIN. Answers whether the customer may use each benefit key.",
        deprecated=True,
        parameters=[CUSTOMER_ID, KEYS],
        responses=BenefitSerializer(many=True),
    )
    def customer_benefits(self, request, customerId):
        return self.benefits_response({"number": customer_number(customerId)})

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
    def customer_benefit_use(self, request, customerId, benefitKey):
        return self.use({"number": customer_number(customerId)}, benefitKey)

    @extend_schema(
        operation_id="getBenefitsByCard",
        summary="Get a customer's benefits by card number, barcode or PIN",
        parameters=[*CARD_LOOKUP, KEYS],
        responses=BenefitSerializer(many=True),
    )
    def benefits(self, request):
        return self.benefits_response(customer_lookup(request.query_params))

    @extend_schema(
        operation_id="postBenefitUsageByCard",
        summary="Post a benefit usage, finding the customer by card number, barcode or PIN",
        parameters=[BENEFIT_KEY, *CARD_LOOKUP],
        request=None,
        responses=NO_CONTENT,
    )
    def benefit_use(self, request, benefitKey):
        return self.use(customer_lookup(request.query_params), benefitKey)
