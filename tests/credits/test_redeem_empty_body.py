"""The credit redeem answers an empty body (`{}`, or none) without building its input serializer
(credits/api/views.py): its answer must be byte for byte what the validated way gives for the same values,
and every body that is not an empty object still goes through the serializer."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.db import transaction

from credits.api.serializers import CreditRedeemInputSerializer
from credits.api.views import CustomerCreditViewSet
from tests.conftest import credit_path

pytestmark = pytest.mark.django_db

FROZEN = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)


def _answer(api, credit, raw):
    """Status, headers (but the request's own id) and bytes of one redeem of `credit` with the body `raw` (None: no body), rolled back
    so that every call finds the credit as it was."""
    with transaction.atomic(), time_machine.travel(FROZEN, tick=False):
        if raw is None:
            response = api.post(credit_path(credit, "/redeem"))
        else:
            response = api.post(credit_path(credit, "/redeem"), raw=raw)
        transaction.set_rollback(True)
    headers = sorted((name, value) for name, value in response.headers.items() if name != "X-Request-ID")
    return response.status_code, headers, response.content


def test_an_empty_body_validates_to_no_values():
    # What the view's shortcut assumes: no field is required and none has a default.
    serializer = CreditRedeemInputSerializer(data={})
    assert serializer.is_valid(), serializer.errors
    assert dict(serializer.validated_data) == {}


@pytest.mark.parametrize(
    "validated",
    [
        '{"reference": null}',
        '{"note": ""}',
        '{"reference": "", "note": null, "amount": null}',
        '{"note": null, "reference": null}',
    ],
)
def test_an_empty_body_answers_the_same_bytes_as_a_validated_body_with_the_same_values(api, credit, validated):
    empty = _answer(api, credit, "{}")
    assert empty[0] == 200
    assert _answer(api, credit, validated) == empty
    assert _answer(api, credit, " { } ") == empty
    assert _answer(api, credit, None) == empty


@pytest.fixture
def validated(monkeypatch):
    """The serializer classes the redeem view validated a body with, call by call."""
    seen = []
    valid = CustomerCreditViewSet.valid

    def spy(self, serializer_class, **kwargs):
        seen.append(serializer_class)
        return valid(self, serializer_class, **kwargs)

    monkeypatch.setattr(CustomerCreditViewSet, "valid", spy)
    return seen


@pytest.mark.parametrize("raw", ["{}", " { } ", None])
def test_an_empty_body_skips_the_serializer(api, credit, validated, raw):
    assert _answer(api, credit, raw)[0] == 200
    assert validated == []


@pytest.mark.parametrize(
    "raw", ["[]", "null", "false", "0", '""', '"{}"', '{"x": 1}', "{", '{"amount": 0}', '{"note": 5}', '{"":""}']
)
def test_a_body_that_is_not_an_empty_object_is_still_refused_by_the_serializer(api, credit, validated, raw):
    status, _, content = _answer(api, credit, raw)
    assert status == 422, (raw, status, content)
    # A malformed body is refused by the parser before any serializer; every other one by the serializer.
    assert validated == ([] if raw == "{" else [CreditRedeemInputSerializer])


def test_a_body_with_values_goes_through_the_serializer(api, credit, validated):
    status, _, content = _answer(api, credit, '{"reference": "till-1", "note": "desk"}')
    assert status == 200 and b'"uses":1' in content
    assert validated == [CreditRedeemInputSerializer]


@pytest.mark.parametrize(
    ("content_type", "status"),
    [("application/json; charset=utf-8", 200), ("text/plain", 415), ("application/x-www-form-urlencoded", 415)],
)
def test_an_empty_object_in_another_content_type_is_negotiated_as_before(api, credit, content_type, status):
    response = api.http.generic("POST", credit_path(credit, "/redeem"), b"{}", content_type, **api.headers)
    assert response.status_code == status, response.content


def test_a_body_over_the_size_limit_is_refused_as_before(api, credit, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1
    assert _answer(api, credit, "{}")[0] == 413
    assert _answer(api, credit, '{"note": "x"}')[0] == 413
