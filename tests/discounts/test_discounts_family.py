"""The discounts family's structure: one seam (api/family.py) holding the dialect with an explicit
code map, the keyset pagination as a DRF pagination class, the base views; one account-id pattern;
selectors as the only way views reach data."""

import re

import pytest
from django.core.exceptions import ValidationError
from rest_framework.pagination import BasePagination

from config.api.dialects import Problem
from customers.errors import CustomerError
from customers.models import ACCOUNT_ID_VALIDATOR
from discounts.api import family, urls
from discounts.errors import DiscountError


def test_every_domain_code_has_its_vendor_string():
    # Every discounts code, and the one code of the customers app this family answers (the token call's
    # audience, raised by customers/api/tokens.py).
    assert set(family.VENDOR_CODES) == set(DiscountError) | {CustomerError.TOKEN_AUDIENCE_NOT_SERVED}


@pytest.mark.parametrize(
    "code, kind, answered",
    [
        (DiscountError.REF_CONFLICT, "conflict", "ref_conflict"),
        (DiscountError.RULE_NOT_FOUND, "not_found", "not_found"),
        ("membership.not_active", "conflict", "conflict"),  # another app's code: answered by its kind
        ("usage_limit_reached_elsewhere", "conflict", "conflict"),  # not in the map, though dot-free
        ("validation_failed", "validation", "validation_error"),
        ("idempotency_key.in_flight", "conflict", "conflict"),
    ],
)
def test_the_dialect_answers_a_code_only_through_its_map(code, kind, answered):
    body = family.DiscountsDialect().body(Problem(kind, "m", code), 409, "rid")
    assert body == {"error": {"code": answered, "message": "m"}}


def test_lists_page_through_the_drf_pagination_hook():
    for pattern in urls.urlpatterns:
        view = pattern.callback.cls
        if "list" in getattr(pattern.callback, "actions", {}).values():
            assert (
                issubclass(view.pagination_class, BasePagination) and view.pagination_class is family.KeysetPagination
            )


@pytest.mark.parametrize(
    "aid, valid",
    [("T00000001", True), ("P12345678", True), ("X00000001", False), ("T0000001", False), ("T000000010", False),
     # Unicode digits are digits to `\d` but not to an account id (Arabic-Indic, full-width).
     ("T\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667", False), ("P\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18", False)],
)
def test_the_path_and_the_model_accept_the_same_account_ids(aid, valid):
    """The family's path pattern and the model's validator are one rule: they agree on every sample."""
    assert bool(re.fullmatch(family.ACCOUNT_ID, aid)) is valid
    try:
        ACCOUNT_ID_VALIDATOR(aid)
        accepted = True
    except ValidationError:
        accepted = False
    assert accepted is valid


@pytest.mark.django_db
def test_the_document_lists_each_lists_paging_and_state_parameters(client):
    document = client.get("/api/schema/", {"format": "json"}).json()
    lists = {
        "/v1/accounts/{aid}/discounts/rules": {"limit", "starting_after", "state"},
        "/v1/accounts/{aid}/discounts/rules/{did}/customers": {"limit", "starting_after", "state"},
        "/v1/accounts/{aid}/discounts/rules/{did}/usages": {"limit", "starting_after"},
        "/v1/accounts/{aid}/discounts/customers/{customer_id}/rules": {"limit", "starting_after", "state"},
        "/v1/accounts/{aid}/discounts/available_for_receipt/claims": {"limit", "starting_after"},
    }
    for path, expected in lists.items():
        parameters = {p["name"] for p in document["paths"][path]["get"]["parameters"] if p["in"] == "query"}
        assert parameters == expected, path
        schema = document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        name = schema["$ref"].rsplit("/", 1)[-1]
        assert document["components"]["schemas"][name]["type"] == "array", path  # a bare array, as the vendor
    state = next(
        p for p in document["paths"]["/v1/accounts/{aid}/discounts/rules"]["get"]["parameters"] if p["name"] == "state"
    )
    assert {"scheduled", "completed", "available"} <= set(state["schema"]["enum"])
