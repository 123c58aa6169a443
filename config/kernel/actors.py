"""Who made a change. Every write names its actor: a staff user, an API client, a membership credit
rule or a bulk grant. The label is what the API shows (`issued_by`, `used_by`, ...); the user or
client, when there is one, is kept as a foreign key beside it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from customers.models import ApiClient


@dataclass(frozen=True)
class Actor:
    label: str
    user: AbstractBaseUser | None = None
    api_client: ApiClient | None = None

    @classmethod
    def staff(cls, user: AbstractBaseUser) -> Actor:
        return cls(label=f"staff:{user.get_username()}", user=user)

    @classmethod
    def client(cls, api_client: ApiClient) -> Actor:
        return cls(label=api_client.actor_label, api_client=api_client)

    @classmethod
    def rule(cls, rule_id) -> Actor:
        return cls(label=f"rule:{rule_id}")

    @classmethod
    def bulk(cls, batch_key: str) -> Actor:
        return cls(label=f"bulk:{batch_key}")

    @classmethod
    def system(cls, what: str) -> Actor:
        return cls(label=f"system:{what}")

    @property
    def user_id(self):
        return self.user.pk if self.user is not None else None

    @property
    def api_client_id(self):
        return self.api_client.pk if self.api_client is not None else None


ACTOR_KINDS = {
    "staff": "staff",
    "client": "API client",
    "rule": "membership rule",
    "bulk": "bulk grant",
    "system": "system",
}


def actor_name(label: str | None, user: AbstractBaseUser | None = None) -> str:
    """An actor as staff read it: "Ada Lovelace (staff)" or "alice (staff)" for "staff:alice", "pos-1 (API
    client)" for "client:pos-1", "bulk grant grant-3f2a…" for a batch. The label itself stays the record."""
    if not label:
        return "—"
    kind, _, name = label.partition(":")
    if kind == "staff" and user is not None:
        name = user.get_full_name() or user.get_username()
    what = ACTOR_KINDS.get(kind)
    if what is None or not name:
        return label
    if kind == "bulk":
        return f"bulk grant {name}"
    if kind == "rule":
        return "membership credit rule"
    return f"{name} ({what})"
