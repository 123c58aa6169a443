"""A property over every write route's JSON body (tests/routes.py): one field of a valid body (or a field the
route does not know, or a field of its first usage) given a value no field can take: a string holding a NUL
or a lone surrogate among case-expanding characters ("İ", "ß", "ﬃ"), or a number past int64 or past a
double (written into the JSON text as is: 1e309, 2^63). Whatever the field, the answer is a 4xx in the
family's dialect and nothing is written. Hypothesis, derandomized and bounded: a few seconds per route."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.kernel.scopes import ALL_SCOPES
from tests.routes import ROUTES
from tests.snapshots import snapshot
from tests.world import fill

pytestmark = pytest.mark.django_db

WRITES = [route for route in ROUTES if route.method in ("POST", "PUT", "PATCH") and route.body is not None]

# What each family's error body holds, whatever the error.
DIALECT_KEYS = {
    "credits": {"message"},
    "benefits": {"errorMessage", "errorCode", "traceId"},
    "discounts": {"error"},
    "billing": {"code", "message", "details"},
}

_AROUND = st.text(alphabet=st.sampled_from("aZ09 -_.İßﬃŉΐǰẞ\u0345\t"), max_size=12)
_POISON = st.sampled_from(["\x00", "\ud800", "\udbff", "\udc00", "\udfff"])
HOSTILE_TEXT = st.tuples(_AROUND, _POISON, _AROUND).map("".join)
# Raw JSON number tokens: past a double (Python reads them as inf) or past int64 either way.
EXTREME_NUMBERS = st.sampled_from(
    ["1e309", "-1e309", "1e400", "9223372036854775808", "-9223372036854775809", "18446744073709551616", "1" * 40]
)
_MARK = "\u2063number\u2063"
HOSTILE = st.one_of(HOSTILE_TEXT.map(lambda text: ("text", text)), EXTREME_NUMBERS.map(lambda n: ("number", n)))


def _json_with(body: dict, path: tuple, kind: str, value: str) -> str:
    """`body` as JSON text with the field at `path` set to `value`: a string, or a raw number token."""
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value if kind == "text" else _MARK
    text = json.dumps(body)  # ensure_ascii: NUL and lone surrogates travel as \u escapes
    return text if kind == "text" else text.replace(json.dumps(_MARK), value)


def _paths(body: dict) -> list[tuple]:
    paths = [(key,) for key in body] + [("unknown_field",)]
    usages = body.get("usages")
    if isinstance(usages, list) and usages and isinstance(usages[0], dict):
        paths += [("usages", 0, key) for key in usages[0]] + [("usages", 0, "source"), ("usages", 0, "type")]
    return paths


@pytest.mark.parametrize("route", WRITES, ids=str)
def test_a_hostile_value_in_any_field_is_a_4xx_in_the_dialect_and_writes_nothing(module_world, route):
    tenant = module_world.a
    api = tenant.api(ALL_SCOPES, form=route.form)
    paths = _paths(fill(route.body, tenant.ids))

    @settings(
        max_examples=10,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(path=st.sampled_from(paths), hostile=HOSTILE)
    def check(path, hostile):
        raw = _json_with(fill(route.body, tenant.ids), path, *hostile)
        before = snapshot()
        response = api.request(route.method, fill(route.path, tenant.ids), raw=raw)
        assert 400 <= response.status_code < 500 and response.status_code != 404, (path, raw, response.content)
        assert DIALECT_KEYS[route.family] <= set(response.json()), response.content
        assert snapshot() == before, (path, raw)

    check()
