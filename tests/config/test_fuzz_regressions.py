"""What schemathesis found in the API plumbing shared by the four families (tests/fuzz)."""

import pytest

from config.api import dialects
from config.api.dialects import Problem
from tests.fuzz.document import assert_conforms, document

pytestmark = pytest.mark.django_db

UNSAFE = {"post", "put", "patch", "delete"}


def unsafe_operations():
    for path, operations in document()["paths"].items():
        for method, operation in operations.items():
            if method in UNSAFE:
                yield path, method, operation


def test_every_unsafe_operation_documents_what_its_idempotency_key_can_answer():
    # A key that is not 1 to 255 characters (or was used for another request) fails validation, and a retry
    # while the first request runs answers 409; neither was documented on most operations.
    checked = 0
    for path, method, operation in unsafe_operations():
        family = operation["tags"][0]
        validation = str(dialects.get(family).status_for(Problem("validation", "", "")))
        assert {validation, "409"} <= set(operation["responses"]), (method, path)
        [header] = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
        assert header["schema"] == {"type": "string", "minLength": 1, "maxLength": 255}
        checked += 1
    assert checked >= 25


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/customers/membership-types", "/customers/membership-types"),
        ("/v1/accounts/T00000001/discounts/rules", "/v1/accounts/{aid}/discounts/rules"),
        ("/v1beta1/billing/check", "/v1beta1/billing/check"),
        ("/v1/customers/benefits/sauna/use", "/v1/customers/benefits/{benefitKey}/use"),
    ],
)
@pytest.mark.parametrize("key", ["", "k" * 256])
def test_a_bad_idempotency_key_is_a_documented_error_in_every_family(api, path, template, key):
    response = api.post(path, {}, HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code in (400, 422), response.content
    assert_conforms(response, "POST", template)
