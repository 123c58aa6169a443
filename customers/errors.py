"""The domain error codes the customers app raises. They name what went wrong, not how a vendor says it:
each family's dialect maps them to its own strings (the benefits family: credits/api/benefits_family.py)."""

from enum import StrEnum


class CustomerError(StrEnum):
    ACCOUNT_EXISTS = "account.exists"
    CUSTOMER_NOT_FOUND = "customer.not_found"
    MEMBERSHIP_NOT_FOUND = "membership.not_found"
    MEMBERSHIP_TYPE_NOT_FOUND = "membership_type.not_found"
    MEMBERSHIP_NOT_ACTIVE = "membership.not_active"
    # Client-credentials access tokens (customers/api/tokens.py).
    TOKEN_AUDIENCE_NOT_SERVED = "token.audience_not_served"
