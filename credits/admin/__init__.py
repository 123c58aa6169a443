"""Staff admin for coupons, membership credit rules and customer credits, one module per page family:
coupons, rules (membership credit rules), credits (the credit list, issuing and the pages that act on one
credit, with their forms, filters and inlines), bulk (bulk grants), reports (the liability report) and
customer_page (the piece config/admin.py adds to the customer page).

Every write goes through credits.services with the signed-in staff user as the actor (see the machinery
in config/kernel/admin.py). Importing this package registers the pages."""

from . import coupons, credits, rules
from .customer_page import CUSTOMER_PAGE

__all__ = ["CUSTOMER_PAGE", "coupons", "credits", "rules"]
