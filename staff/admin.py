"""Staff security in the admin: the second-factor resets (read-only history), each user's second factors
with a superuser's Reset… link, and sign-in lockouts that staff with the permission can lift."""

from __future__ import annotations

from axes.admin import AccessAttemptAdmin as _AccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as _UserAdmin
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django_otp import devices_for_user

from config.kernel.admin import LedgerAdmin, ReadOnlyAdmin

from .models import SecondFactorReset


@admin.register(SecondFactorReset)
class SecondFactorResetAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user", "reset_by", "reason")
    list_select_related = ("user", "reset_by")
    readonly_fields = ("created_at", "user", "reset_by", "reason", "devices")
    fields = readonly_fields


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class UserAdmin(LedgerAdmin, _UserAdmin):
    readonly_fields = (*_UserAdmin.readonly_fields, "second_factor")

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        return (*fieldsets, ("Second factor", {"fields": ("second_factor",)}))

    @admin.display(description="second factors")
    def second_factor(self, user):
        devices = list(devices_for_user(user, confirmed=True))
        listed = format_html_join(", ", "{} ({})", ((d.name, type(d).__name__) for d in devices)) if devices else "none"
        request = getattr(self, "_request", None)
        if request is not None and request.user.is_superuser and request.user.pk != user.pk:
            return format_html(
                '{} <a class="button" id="reset-second-factor" href="{}">Reset…</a>',
                listed,
                reverse("staff:reset", args=[user.pk]),
            )
        return listed

    def get_form(self, request, obj=None, **kwargs):
        self._request = request
        return super().get_form(request, obj, **kwargs)


admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class AccessAttemptAdmin(LedgerAdmin, _AccessAttemptAdmin):
    """Lockouts: seen with axes.view_accessattempt, lifted (the failures forgotten) with
    axes.delete_accessattempt."""

    actions = ("lift_selected",)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description="Lift the selected lockouts", permissions=["delete"])
    def lift_selected(self, request, queryset):
        count, _ = queryset.delete()
        self.message_user(request, f"Lifted {count} lockout record(s).", messages.SUCCESS)
