"""Every event type, with the resource it carries (README, "Events and webhooks")."""

CREDIT_ISSUED = "credit.issued"
CREDIT_REDEEMED = "credit.redeemed"
CREDIT_USE_REVERSED = "credit.use_reversed"
CREDIT_REVOKED = "credit.revoked"
CREDIT_EXPIRED = "credit.expired"
CREDIT_EXPIRING_SOON = "credit.expiring_soon"
BENEFIT_USED = "benefit.used"
DISCOUNT_USAGE_RECORDED = "discount.usage_recorded"
DISCOUNT_USAGE_REVERTED = "discount.usage_reverted"
DISCOUNT_RULE_GIVEN = "discount.rule_given"
BILLING_TRANSACTION_CREATED = "billing.transaction.created"
BILLING_USAGE_REVERTED = "billing.usage.reverted"
BILLING_BALANCE_LOW = "billing.balance.low"
BILLING_BALANCE_DEPLETED = "billing.balance.depleted"

CATALOGUE: dict[str, str] = {
    CREDIT_ISSUED: "a credit was issued (API, admin, bulk or recurring grant)",
    CREDIT_REDEEMED: "one use of a credit (credits family redeem, admin)",
    CREDIT_USE_REVERSED: "a use of a credit was reversed",
    CREDIT_REVOKED: "a credit was revoked",
    CREDIT_EXPIRED: "a credit passed its expiry date unused (scheduled scan)",
    CREDIT_EXPIRING_SOON: "a credit expires within N days (scheduled scan; once per credit per threshold)",
    BENEFIT_USED: "one use of a credit through the benefits family",
    DISCOUNT_USAGE_RECORDED: "a receipt was recorded against a customer's discount",
    DISCOUNT_USAGE_REVERTED: "a recorded receipt was removed",
    DISCOUNT_RULE_GIVEN: "a private discount rule was given to a customer",
    BILLING_TRANSACTION_CREATED: "a billing credit or debit transaction",
    BILLING_USAGE_REVERTED: "a debit was (partly) reverted",
    BILLING_BALANCE_LOW: "the balance fell to or below the billing account's threshold (once per crossing)",
    BILLING_BALANCE_DEPLETED: "the balance fell to or below zero (once per crossing)",
}
