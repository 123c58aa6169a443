"""Error dialects: one per API family. The whole project raises and maps errors one way (into a
`Problem`, config/api/errors.py); a dialect only decides the status code for each kind of problem and
the shape of the JSON body. Each family's dialect lives in its app's seam (`<app>/api/family.py`) and
registers itself here when the app is ready."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

# The kinds of problem every family can answer, with the status code most families use for them.
DEFAULT_STATUS = {
    "validation": 400,
    "malformed": 400,
    "unauthenticated": 401,
    "forbidden": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "not_acceptable": 406,
    "conflict": 409,
    "not_possible": 400,
    "too_large": 413,
    "unsupported_media_type": 415,
    "throttled": 429,
    "internal": 500,
    "unavailable": 503,
}


@dataclass
class Problem:
    """What went wrong, independent of any family's way of saying it."""

    kind: str
    message: str
    code: str
    fields: dict[str, list[str]] = field(default_factory=dict)
    args: list[object] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    # A status more precise than the kind's (414 and 431 are kinds of "too_large"); None: the kind's.
    status: int | None = None


class Dialect:
    name: ClassVar[str]
    # Path prefixes whose errors outside any view (unknown path, 500) this dialect renders.
    prefixes: ClassVar[tuple[str, ...]] = ()
    status_overrides: ClassVar[dict[str, int]] = {}

    def status_for(self, problem: Problem) -> int:
        if problem.status is not None:
            return problem.status
        return self.status_overrides.get(problem.kind, DEFAULT_STATUS[problem.kind])

    def body(self, problem: Problem, status: int, request_id: str) -> dict:
        raise NotImplementedError

    def error_schema(self) -> dict:
        """The OpenAPI schema of this dialect's error body."""
        raise NotImplementedError


_registry: list[Dialect] = []


def register(dialect_class: type[Dialect]) -> type[Dialect]:
    _registry.append(dialect_class())
    # Longest prefix first, so /v1/accounts/ wins over /v1/customers/ style overlaps.
    _registry.sort(key=lambda d: -max((len(p) for p in d.prefixes), default=0))
    return dialect_class


def get(name: str) -> Dialect:
    for dialect in _registry:
        if dialect.name == name:
            return dialect
    raise LookupError(name)


def for_path(path: str) -> Dialect | None:
    for dialect in _registry:
        if any(path.startswith(prefix) for prefix in dialect.prefixes):
            return dialect
    return None
