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

# What each family is, and what each scope lets a client do there (the staff's API client form shows it).
FAMILY_NAMES: dict[str, str] = {
    "credits": "Credits API (/customers/...)",
    "benefits": "Benefits API (/v1/customers/{number}/benefits...)",
    "discounts": "Discounts API (/v1/accounts/{account}/...)",
    "billing": "Billing API (/v1beta1/...)",
}
SCOPE_DESCRIPTIONS: dict[str, str] = {
    "customers:read": "list and read customers, their memberships",
    "customers:write": "create and change customers, memberships",
    "coupons:write": "create and change coupons and membership credit rules",
    "credits:read": "read credits, their uses, coupons and rules",
    "credits:write": "issue and redeem credits, reverse a use",
    "credits:revoke": "revoke credits",
    "CUSTOMER_READ": "read customers and their benefits",
    "CUSTOMER_WRITE": "create and change customers; use benefits",
    "CUSTOMER_BENEFIT_READ": "read a customer's benefits",
    "CUSTOMER_BENEFIT_WRITE": "use a customer's benefits (a point of sale's redeem)",
    "read:discounts": "read discount rules, a customer's discounts and statistics",
    "write:discounts": "record receipts (stamps, rewards, amounts) and claims; includes read",
    "admin:discounts": "create, change and delete discount rules, give them; includes write",
    "billing:read": "read billing accounts, balances and transactions",
    "billing:write": "report usage; includes read",
    "billing:admin": "top up, revert usage, create billing accounts; includes write",
}
# Scope sets for the usual kinds of client, offered as presets on the staff's API client form.
SCOPE_PRESETS: dict[str, tuple[str, tuple[str, ...]]] = {
    "pos": (
        "Point of sale (find customers, read and redeem credits, use benefits)",
        ("customers:read", "credits:read", "credits:write", "CUSTOMER_READ", "CUSTOMER_BENEFIT_READ",
         "CUSTOMER_BENEFIT_WRITE", "read:discounts", "write:discounts"),
    ),
    "booking": (
        "Booking app (customers and their credits, read only)",
        ("customers:read", "credits:read", "CUSTOMER_READ", "CUSTOMER_BENEFIT_READ"),
    ),
    "crm": (
        "CRM or membership system (customers, memberships, coupons, issuing)",
        ("customers:read", "customers:write", "coupons:write", "credits:read", "credits:write", "CUSTOMER_READ",
         "CUSTOMER_WRITE"),
    ),
    "billing": ("Usage billing (report usage, read balances)", ("billing:read", "billing:write")),
}  # fmt: skip

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
