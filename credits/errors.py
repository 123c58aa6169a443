"""The domain error codes the credits app raises. They name what went wrong, not how a vendor says it:
each family's dialect maps them to its own strings (the benefits family: credits/api/benefits_family.py)."""

from enum import StrEnum


class CreditError(StrEnum):
    COUPON_NOT_FOUND = "coupon.not_found"
    CREDIT_NOT_FOUND = "credit.not_found"
    CREDIT_NOT_ACTIVE = "credit.not_active"
    CREDIT_ALREADY_REVOKED = "credit.already_revoked"
    CREDIT_REDEEMED = "credit.redeemed"
    CREDIT_REVOKED = "credit.revoked"
    CREDIT_USE_NOT_FOUND = "credit_use.not_found"
    CREDIT_USE_ALREADY_REVERSED = "credit_use.already_reversed"
    RULE_NOT_FOUND = "rule.not_found"
    BENEFIT_NOT_AVAILABLE = "benefit.not_available"
