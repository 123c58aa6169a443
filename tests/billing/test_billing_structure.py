"""The billing family's seams: the usage parser and
the documented serializer agree on every limit, views reach data only through selectors and services,
services raise the domain's error codes, the dialect maps each, and paging is a DRF pagination class."""

from __future__ import annotations

import ast
import uuid
from pathlib import Path

import pytest
from rest_framework.pagination import BasePagination

from billing import errors
from billing.api import family, parsing, serializers, views
from billing.services import MAX_BATCH
from config.api import dialects
from config.api.dialects import Problem
from config.api.fields import Int64Field
from config.kernel.exceptions import InvalidInput
from config.kernel.values import INT64_MAX

BILLING = Path(__file__).resolve().parents[2] / "billing"


def test_the_usage_parser_limits_equal_the_documented_serializers():
    fields = serializers.UsageInSerializer().fields
    amount = fields["amount"]
    assert isinstance(amount, Int64Field)
    documented = {
        "max_batch": serializers.UsageReportSerializer().fields["usages"].max_length,
        "amount_min": amount.min_value,
        "amount_max": amount.max_value,
        "source_max": fields["source"].max_length,
        "description_max": fields["description"].max_length,
        "user_id_max": fields["user_id"].max_length,
    }
    assert documented == parsing.LIMITS
    assert serializers.UsageReportInPathSerializer().fields["usages"].max_length == MAX_BATCH
    assert documented == {
        "max_batch": 1000,
        "amount_min": 1,
        "amount_max": INT64_MAX,
        "source_max": 255,
        "description_max": 5000,
        "user_id_max": 255,
    }


def base_usage(**values) -> dict:
    return {"id": str(uuid.uuid4()), "amount": 1, **values}


BOUNDARIES = [
    base_usage(amount=1),
    base_usage(amount=0),
    base_usage(amount=INT64_MAX),
    base_usage(amount=str(INT64_MAX)),
    base_usage(amount=INT64_MAX + 1),
    base_usage(amount="12"),
    base_usage(amount=" 12"),
    base_usage(amount="\u00b2"),
    base_usage(amount=-1),
    base_usage(source="s" * 255),
    base_usage(source="s" * 256),
    base_usage(description="d" * 5000),
    base_usage(description="d" * 5001),
    base_usage(user_id="u" * 255),
    base_usage(user_id="u" * 256),
    base_usage(metadata={"a": 1}),
    base_usage(metadata=[1]),
    base_usage(type="feature"),
    base_usage(type="refund"),
    {"amount": 1},
    {"id": "not-a-uuid", "amount": 1},
]


@pytest.mark.parametrize("item", BOUNDARIES, ids=range(len(BOUNDARIES)))
def test_the_usage_parser_and_the_serializer_accept_and_refuse_the_same(item):
    try:
        parsing.usages([item])
        parsed = True
    except InvalidInput:
        parsed = False
    assert parsed == serializers.UsageInSerializer(data=item).is_valid(), item


def test_a_batch_over_the_limit_is_refused_by_both():
    items = [base_usage() for _ in range(MAX_BATCH + 1)]
    with pytest.raises(InvalidInput):
        parsing.usages(items)
    assert not serializers.UsageReportInPathSerializer(data={"usages": items}).is_valid()
    assert len(parsing.usages(items[:MAX_BATCH])) == MAX_BATCH


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


@pytest.mark.parametrize("path", sorted((BILLING / "api").glob("*.py")), ids=lambda p: p.name)
def test_the_api_layer_never_imports_the_customers_models(path):
    """Billing's own rule (tests/test_architecture.py holds the ones every app keeps): organizations are
    reached through billing's selectors, never through customers' models."""
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.ImportFrom):
            assert node.module != "customers.models", f"{path.name} imports customers.models"


def test_services_and_selectors_raise_the_domains_error_codes():
    for name in ("services.py", "selectors.py"):
        for node in ast.walk(_tree(BILLING / name)):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                codes = [k.value for k in node.exc.keywords if k.arg == "code"]
                assert len(codes) == 1, f"billing/{name}:{node.lineno} raises without a BillingError code"
                code = codes[0]
                assert isinstance(code, ast.Attribute) and isinstance(code.value, ast.Name), ast.dump(code)
                assert code.value.id == "BillingError" and code.attr in errors.BillingError.__members__


# What Frontier answers for each of our codes: HTTP status, gRPC code, and the vendor's own message where
# it has one (None: our detail is the message). Written out, not read from the dialect's table, so that a
# change to the table shows here.
EXPECTED = {
    "INVALID_ARGUMENT": (400, 3, None),
    "ORGANIZATION_NOT_FOUND": (404, 5, None),
    "BILLING_ACCOUNT_NOT_FOUND": (404, 5, None),
    "NO_BILLING_ACCOUNT": (400, 3, None),
    "PROJECT_NOT_FOUND": (404, 5, None),
    "ORG_AND_PROJECT": (400, 3, None),
    "NO_TARGET": (400, 3, None),
    "AMOUNT_NOT_POSITIVE": (400, 3, None),
    "INSUFFICIENT_CREDITS": (400, 3, "insufficient credits"),
    "ALREADY_APPLIED": (409, 6, "credits already applied"),
    "BALANCE_OVERFLOW": (400, 3, None),
    "DEBITED_OVERFLOW": (400, 3, None),
    "CREDIT_MIN_ABOVE_BALANCE": (400, 3, None),
    "USAGE_NOT_FOUND": (400, 3, None),  # the vendor answers InvalidArgument (credit.ErrNotFound)
    "REVERT_OF_REVERT": (409, 6, "a reverted usage cannot be reverted again"),
    "REVERT_EXCEEDS_USAGE": (400, 3, "revert amount is greater than the usage amount"),
    "PROJECT_NOT_CREATED": (400, 3, None),
}


def test_every_domain_code_has_its_expected_answer():
    assert set(EXPECTED) == set(errors.BillingError.__members__)


@pytest.mark.parametrize("code", list(errors.BillingError), ids=lambda c: c.name)
def test_the_billing_dialect_maps_every_domain_code(code):
    dialect = dialects.get("billing")
    kind = "not_found" if code.name.endswith("NOT_FOUND") else "validation"
    problem = Problem(kind, "detail of ours", code)
    status = dialect.status_for(problem)
    body = dialect.body(problem, status, "rid")
    expected_status, expected_grpc, expected_message = EXPECTED[code.name]
    assert (status, body["code"], body["message"]) == (
        expected_status,
        expected_grpc,
        expected_message or "detail of ours",
    )
    info = [d for d in body["details"] if d["@type"].endswith("ErrorInfo")]
    assert info == [
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": str(code),
            "domain": "billing",
            "metadata": {"detail": "detail of ours"},
        }
    ]


def test_paging_is_a_drf_pagination_class():
    assert issubclass(family.PageTokenPagination, BasePagination)
    assert issubclass(views.TransactionViewSet.pagination_class, family.PageTokenPagination)
