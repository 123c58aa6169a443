"""Domain exceptions raised by services. They know nothing of HTTP: the API layer maps each kind to a
status code in the family's dialect (config/api/errors.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class DomainError(Exception):
    kind = "not_possible"
    default_code = "error"

    def __init__(self, message: str, *, code: str | None = None, args: Sequence[object] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.message_args = list(args)


class NotFound(DomainError):
    """The object does not exist, or belongs to another account (never told apart)."""

    kind = "not_found"
    default_code = "not_found"


class Conflict(DomainError):
    """The request conflicts with the object's current state (e.g. using a credit that is not active)."""

    kind = "conflict"
    default_code = "conflict"


class NotPossible(DomainError):
    """The request was understood, but the action is not possible (e.g. revoking a redeemed credit)."""

    kind = "not_possible"
    default_code = "not_possible"


class InvalidInput(DomainError):
    """One or more fields are invalid; `fields` maps a dotted field path to its messages."""

    kind = "validation"
    default_code = "validation_failed"

    def __init__(self, fields: Mapping[str, Sequence[str]], *, code: str | None = None) -> None:
        self.fields = {name: list(messages) for name, messages in fields.items()}
        first_field, first_messages = next(iter(self.fields.items()))
        super().__init__(first_messages[0] if first_messages else f"{first_field} is invalid", code=code)

    @classmethod
    def single(cls, field: str, message: str, *, code: str | None = None) -> InvalidInput:
        return cls({field: [message]}, code=code)
