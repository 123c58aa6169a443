"""The billing family's domain error codes. Services raise kernel exceptions carrying one of these codes;
the billing dialect (billing/api/family.py) maps each to the vendor's HTTP status and gRPC code."""

from enum import StrEnum


class BillingError(StrEnum):
    INVALID_ARGUMENT = "billing.invalid_argument"
    ORGANIZATION_NOT_FOUND = "billing.organization_not_found"
    BILLING_ACCOUNT_NOT_FOUND = "billing.billing_account_not_found"
    NO_BILLING_ACCOUNT = "billing.no_billing_account"
    PROJECT_NOT_FOUND = "billing.project_not_found"
    ORG_AND_PROJECT = "billing.org_and_project"
    NO_TARGET = "billing.no_target"
    AMOUNT_NOT_POSITIVE = "billing.amount_not_positive"
    INSUFFICIENT_CREDITS = "billing.insufficient_credits"
    ALREADY_APPLIED = "billing.already_applied"
    BALANCE_OVERFLOW = "billing.balance_overflow"
    DEBITED_OVERFLOW = "billing.debited_overflow"
    CREDIT_MIN_ABOVE_BALANCE = "billing.credit_min_above_balance"
    USAGE_NOT_FOUND = "billing.usage_not_found"
    REVERT_OF_REVERT = "billing.revert_of_revert"
    REVERT_EXCEEDS_USAGE = "billing.revert_exceeds_usage"
    PROJECT_NOT_CREATED = "billing.project_not_created"
