"""config.kernel.history: who wrote a row comes from one of two abstract bases, never from a field copied
by hand into a model."""

import pytest
from django.apps import apps

from config.kernel.history import ActorStampedModel, AppendOnlyModel, RecordedByModel

PROJECT_APPS = {"config", "customers", "credits", "discounts", "billing", "events", "webhooks", "staff"}


def models_with(column):
    found = []
    for model in apps.get_models():
        if model._meta.app_label not in PROJECT_APPS:
            continue
        names = {field.name for field in model._meta.concrete_fields}
        if column in names:
            found.append(model)
    return found


@pytest.mark.parametrize("column", ["created_by", "updated_by"])
def test_every_actor_column_is_the_kernel_bases_own_field(column):
    for model in models_with(column):
        base = RecordedByModel if issubclass(model, AppendOnlyModel) else ActorStampedModel
        assert issubclass(model, base), f"{model.__name__}.{column} is not from {base.__name__}"
        own, kernel = model._meta.get_field(column), base._meta.get_field(column)
        assert own.deconstruct()[1:] == kernel.deconstruct()[1:], f"{model.__name__}.{column} differs from the base"


def test_the_stamped_models_are_the_ones_expected():
    # A new model with an actor column must say so here: the list is the contract of who names its writer.
    assert {model._meta.label for model in models_with("created_by")} == {
        "billing.BillingAccount", "billing.BillingTransaction", "billing.FeatureUsage", "billing.Project",
        "credits.Coupon", "credits.MembershipCreditRule", "customers.ApiClient", "customers.Customer",
        "customers.Membership", "customers.MembershipType", "discounts.DiscountClaim", "discounts.DiscountRef",
        "discounts.DiscountRule", "discounts.UsageRef", "webhooks.Endpoint",
    }  # fmt: skip


def test_a_history_row_without_its_writer_is_refused_by_validation():
    from django.core.exceptions import ValidationError

    from billing.models import FeatureUsage

    with pytest.raises(ValidationError) as refused:
        FeatureUsage(created_by="").clean_fields(
            exclude={"account", "billing_account", "usage_id", "feature", "amount"}
        )
    assert list(refused.value.message_dict) == ["created_by"]
