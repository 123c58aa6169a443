"""Staff pages for webhooks: endpoints of any kind (signed per Standard Webhooks when made here), their
secret shown once at creation and at each rotation, their deliveries (status, attempts, latency, answer)
and resending one delivery or a range of sequence numbers."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html

from config.kernel.actors import Actor
from config.kernel.admin import LedgerAdmin, ReadOnlyAdmin
from config.kernel.exceptions import InvalidInput
from events.models import Event, EventSettings

from . import services
from .models import Delivery, Endpoint


def _actor(request) -> Actor:
    return Actor.staff(request.user)


class EndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=2000, assume_scheme="https")

    class Meta:
        model = Endpoint
        fields = [
            "account",
            "kind",
            "url",
            "description",
            "subscribed_events",
            "expiring_soon_days",
            "headers",
            "metadata",
            "state",
        ]

    def clean(self):
        cleaned = super().clean()
        try:
            services.endpoint_check(
                url=cleaned.get("url") or "",
                subscribed_events=cleaned.get("subscribed_events") or [],
                headers=cleaned.get("headers") or {},
                state=cleaned.get("state") or Endpoint.State.ENABLED,
                expiring_soon_days=cleaned.get("expiring_soon_days") or [],
            )
        except InvalidInput as invalid:
            for name, problems in invalid.fields.items():
                self.add_error(name, problems)
        return cleaned


@admin.register(Endpoint)
class EndpointAdmin(LedgerAdmin):
    form = EndpointForm
    list_display = [
        "url",
        "account",
        "kind",
        "state",
        "expiring_soon_days",
        "disabled_reason",
        "failing_since",
        "cursor",
        "created_at",
    ]
    list_filter = ["state", "kind"]
    search_fields = ["url", "account__id", "description"]
    readonly_fields = [
        "deliveries",
        "disabled_reason",
        "failing_since",
        "cursor",
        "deleted_at",
        "created_by",
        "created_at",
    ]

    @admin.display(description="deliveries")
    def deliveries(self, obj):
        if obj.pk is None:
            return "-"
        counts = dict(Delivery.objects.filter(endpoint=obj).values_list("status").annotate(n=Count("id")).order_by())
        url = reverse("admin:webhooks_delivery_changelist") + f"?endpoint__id__exact={obj.pk}"
        summary = ", ".join(f"{counts.get(s, 0)} {s}" for s in Delivery.Status.values)
        return format_html('<a href="{}">{}</a>', url, summary)

    def save_model(self, request, obj, form, change):
        values = {name: form.cleaned_data[name] for name in form.fields if name in form.cleaned_data}
        if change:
            values.pop("account", None)
            values.pop("kind", None)
            services.endpoint_update(endpoint=obj, actor=_actor(request), **values)
        else:
            endpoint, secret = services.endpoint_create(actor=_actor(request), **values)
            obj.pk = endpoint.pk
            messages.warning(request, f"The signing secret, shown this once: {secret}")

    def get_urls(self):
        return [
            path("<uuid:pk>/rotate/", self.admin_site.admin_view(self.rotate), name="webhooks_endpoint_rotate"),
            path("<uuid:pk>/resend/", self.admin_site.admin_view(self.resend), name="webhooks_endpoint_resend"),
            *super().get_urls(),
        ]

    def rotate(self, request, pk):
        endpoint = Endpoint.objects.get(pk=pk)
        if request.method == "POST" and self.has_change_permission(request, endpoint):
            secret = services.endpoint_secret_rotate(endpoint=endpoint, actor=_actor(request))
            messages.warning(
                request, f"The new signing secret, shown this once (the old one signs too for 24 h): {secret}"
            )
        return redirect(reverse("admin:webhooks_endpoint_change", args=[pk]))

    def resend(self, request, pk):
        endpoint = Endpoint.objects.get(pk=pk)
        if request.method == "POST" and self.has_change_permission(request, endpoint):
            first = int(request.POST.get("first") or 1)
            last = int(request.POST["last"]) if request.POST.get("last") else None
            count = services.deliveries_resend(endpoint=endpoint, actor=_actor(request), first=first, last=last)
            messages.success(request, f"{count} deliveries queued again.")
        return redirect(reverse("admin:webhooks_endpoint_change", args=[pk]))

    def get_readonly_fields(self, request, obj=None):
        fixed = ["account", "kind"] if obj is not None else []
        return [*fixed, *self.readonly_fields]


@admin.register(Delivery)
class DeliveryAdmin(LedgerAdmin):
    list_display = [
        "sequence",
        "endpoint",
        "status",
        "attempts",
        "response_status",
        "latency_ms",
        "last_attempt_at",
        "next_attempt_at",
    ]
    list_filter = ["status", "endpoint"]
    search_fields = ["endpoint__url", "event__id"]
    list_select_related = ["endpoint"]
    readonly_fields = [f.name for f in Delivery._meta.fields]
    actions = ["resend"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Resend the selected deliveries")
    def resend(self, request, queryset):
        count = 0
        for delivery in queryset.select_related("endpoint"):
            count += services.deliveries_resend(
                endpoint=delivery.endpoint, actor=_actor(request), first=delivery.sequence, last=delivery.sequence
            )
        messages.success(request, f"{count} deliveries queued again.")


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["sequence", "account", "type", "resource_type", "resource_id", "created_at"]
    list_filter = ["type"]
    search_fields = ["account__id", "resource_id", "id"]
    readonly_fields = [f.name for f in Event._meta.fields]


@admin.register(EventSettings)
class EventSettingsAdmin(LedgerAdmin):
    list_display = ["account", "expiring_soon_days"]
