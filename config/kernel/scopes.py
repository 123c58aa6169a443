"""Every scope an API client can hold, by family, with each vendor's own names. In the discounts and
billing families a higher scope implies the lower ones (admin implies write implies read)."""

from collections.abc import Iterable

FAMILY_SCOPES: dict[str, tuple[str, ...]] = {
    "credits": (
        "customers:read",
        "customers:write",
        "coupons:write",
        "credits:read",
        "credits:write",
        "credits:revoke",
    ),
    "benefits": ("CUSTOMER_READ", "CUSTOMER_WRITE", "CUSTOMER_BENEFIT_READ", "CUSTOMER_BENEFIT_WRITE"),
    "discounts": ("read:discounts", "write:discounts", "admin:discounts"),
    "billing": ("billing:read", "billing:write", "billing:admin"),
}
ALL_SCOPES: tuple[str, ...] = tuple(scope for scopes in FAMILY_SCOPES.values() for scope in scopes)

IMPLIES: dict[str, tuple[str, ...]] = {
    "admin:discounts": ("write:discounts",),
    "write:discounts": ("read:discounts",),
    "billing:admin": ("billing:write",),
    "billing:write": ("billing:read",),
}


def expand(scopes: Iterable[str]) -> frozenset[str]:
    """The scopes held, with every scope they imply."""
    held = set(scopes)
    pending = list(held)
    while pending:
        for implied in IMPLIES.get(pending.pop(), ()):
            if implied not in held:
                held.add(implied)
                pending.append(implied)
    return frozenset(held)


def grants_any(held: Iterable[str], required: Iterable[str]) -> bool:
    return not expand(held).isdisjoint(required)


def unknown(scopes: Iterable[str]) -> list[str]:
    return sorted(set(scopes) - set(ALL_SCOPES))
