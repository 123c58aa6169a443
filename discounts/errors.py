"""The discounts domain's error codes. Services raise these; the family's dialect (api/family.py) maps each
to the vendor's string with an explicit table, so a code reaches a client only if the table names it."""

from enum import StrEnum


class DiscountError(StrEnum):
    DISCOUNT_DELETED = "discount_deleted"
    DISCOUNT_NOT_AVAILABLE = "discount_not_available"
    CUSTOMER_NOT_ELIGIBLE = "customer_not_eligible"
    REF_CONFLICT = "ref_conflict"
    REF_NOT_FOUND = "ref_not_found"
    REWARD_USAGE_EXCEEDED = "reward_usage_exceeded"
    USAGE_LIMIT_REACHED = "usage_limit_reached"
    INSUFFICIENT_DEBIT_BALANCE = "insufficient_debit_balance"
    NOT_ENOUGH_STAMPS = "not_enough_stamps"
    TOTAL_OUT_OF_RANGE = "total_out_of_range"
    RULE_NOT_FOUND = "rule_not_found"
    CLAIM_NOT_FOUND = "claim_not_found"
    CLAIM_CONFLICT = "claim_conflict"
    UNKNOWN_DISCOUNTS = "unknown_discounts"
    # Raised by the family's own seam (paths, paging, tokens).
    INVALID_AID = "invalid_aid"
    INVALID_LIMIT = "invalid_limit"
    INVALID_CURSOR = "invalid_cursor"
    INVALID_STATE = "invalid_state"
    UNSUPPORTED_GRANT_TYPE = "unsupported_grant_type"
