"""The composition of the staff site: the customer page shows what each app built on customers adds to
it. Customers, the base domain, never imports those apps; this module, at the top, puts them together."""

from billing.admin import CUSTOMER_PAGE as BILLING
from credits.admin import CUSTOMER_PAGE as CREDITS
from customers.admin import CustomerAdmin
from discounts.admin import CUSTOMER_PAGE as DISCOUNTS

CustomerAdmin.compose(CREDITS, DISCOUNTS, BILLING)
