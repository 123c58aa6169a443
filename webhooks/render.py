"""An event's resource as its family answers it, built from the rows the event holds (events.Event.data):
credits as the credits family answers a credit (and a use), billing transactions and accounts as the
billing family does, a customer's discount ref as the discounts family's usages list answers it (and the
receipt entry, and for a given rule the rule's customers list entry). The same event always renders the
same: every row the answer is built from is in the event."""

from __future__ import annotations

import json

from django.core.serializers.json import DjangoJSONEncoder

from billing.api.serializers import BillingAccountSerializer, TransactionSerializer
from billing.models import BillingAccount, BillingTransaction
from credits.api.serializers import CreditOutputSerializer, CreditUseOutputSerializer
from credits.models import Coupon, CreditUse, CustomerCredit
from customers.models import Customer
from discounts.api.serializers import DiscountCustomerSerializer, DiscountUsageSerializer, UsageRefSerializer
from discounts.models import DiscountRef, DiscountRule, UsageRef
from events.models import Event


def _load(model, values: dict):
    """An unsaved instance from a row as written (column name -> JSON value)."""
    fields = {field.attname: field for field in model._meta.concrete_fields}
    return model(**{name: fields[name].to_python(value) for name, value in values.items() if name in fields})


def resource(event: Event) -> dict:
    data = event.data
    if event.resource_type == "credit":
        credit = _load(CustomerCredit, data["credit"])
        credit.coupon = _load(Coupon, data["coupon"])
        out = {"credit": CreditOutputSerializer(credit, context={"now": event.created_at}).data}
        if "use" in data:
            out["use"] = CreditUseOutputSerializer(_load(CreditUse, data["use"])).data
        if "days_before" in data:  # credit.expiring_soon: the threshold that fired
            out["days_before"] = data["days_before"]
        return out
    if event.resource_type == "billing_transaction":
        out = {"transaction": TransactionSerializer(_load(BillingTransaction, data["transaction"])).data}
        if "reverted" in data:
            out["reverted"] = TransactionSerializer(_load(BillingTransaction, data["reverted"])).data
        return out
    if event.resource_type == "billing_account":
        account = _load(BillingAccount, data["billing_account"])
        return {
            "billing_account": BillingAccountSerializer(account).data,
            "balance_before": str(data["balance_before"]),
        }
    if event.resource_type == "discount_ref" and "rule" in data:
        return _discount_ref(event)
    return data  # a discount event written before they carried the rows of the family's answer


def _discount_ref(event: Event) -> dict:
    data = event.data
    ref = _load(DiscountRef, data["discount_ref"])
    ref.rule = _load(DiscountRule, data["rule"])
    ref.customer = _load(Customer, data["customer"])
    # The ref's entries as they were at the event (the serializer reads `ref.entries.all()`).
    ref._prefetched_objects_cache = {"entries": [_load(UsageRef, entry) for entry in data["entries"]]}
    out = {"discount_ref": DiscountUsageSerializer(ref).data}
    if "usage" in data:
        out["usage"] = UsageRefSerializer(_load(UsageRef, data["usage"])).data
    else:
        out["customer"] = DiscountCustomerSerializer(ref).data
    return out


def plain(value) -> dict:
    """JSON values only (DRF's ReturnDict, datetimes and UUIDs as strings)."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def envelope(event: Event) -> dict:
    """The event as the events list and Standard Webhooks deliveries carry it."""
    return {
        "id": str(event.id),
        "type": event.type,
        "account_id": event.account_id,
        "sequence": event.sequence,
        "timestamp": event.created_at.isoformat(),
        "data": plain(resource(event)),
    }
