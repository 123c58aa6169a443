"""Admin machinery every app's staff pages share: forms whose save is a service call, admins that never
delete, read-only inlines, the per-object loop of an action, and the pages of an action (admin_page) with
their one step: form, service, message, redirect (action_step)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import widgets as admin_widgets
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import NON_FIELD_ERRORS, EmptyResultSet, FieldDoesNotExist, FullResultSet, ValidationError
from django.db import models, router, transaction
from django.db.models import Q
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import ngettext

from config.kernel.actors import Actor
from config.kernel.display import local_time_text
from config.kernel.exceptions import DomainError, InvalidInput
from config.kernel.text import unstorable
from config.kernel.values import instant_problem
from config.kernel.zones import zone_named

# How many objects a result message names before it summarises the rest.
MESSAGE_NAMES_LIMIT = 10


# --- times in the account's zone --------------------------------------------------------------------


def activate_zone_of(account) -> None:
    """Show and read this request's times in the account's zone (ended with the request by config/admin.py)."""
    if account is not None:
        timezone.activate(zone_named(getattr(account, "timezone", None)))


class AccountZoneMixin:
    """A ModelAdmin whose object pages (and every view that loads the object: history, actions) show and
    read times in the zone of the object's account."""

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        activate_zone_of(getattr(obj, "account", None))
        return obj


class LabelledSplitDateTime(admin_widgets.AdminSplitDateTime):
    """The admin's date and time inputs, each with a <label> a screen reader reads, and the zone named."""

    template_name = "config/widgets/split_datetime.html"

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["zone_name"] = timezone.get_current_timezone_name()
        return context


class LocalDateTimeField(forms.SplitDateTimeField):
    """A date and a time typed in the account's zone (the active zone); a date alone means the end of
    that day there (23:59:59)."""

    widget = LabelledSplitDateTime

    def __init__(self, **kwargs):
        kwargs.setdefault("require_all_fields", False)
        super().__init__(**kwargs)
        self.fields[1].required = False

    def compress(self, data_list):
        if data_list and data_list[0] and data_list[1] in self.empty_values:
            data_list = [data_list[0], time(23, 59, 59)]
        return super().compress(data_list)


class ServiceModelForm(forms.ModelForm):
    """A ModelForm whose save is a service call.

    The service runs while the form validates, so that its InvalidInput errors land on the form's fields
    like any other validation error. ServiceAdmin then skips the usual save, and rolls the service's
    write back if the page is shown again instead of being saved (e.g. an inline formset was invalid).
    Subclasses implement perform()."""

    # Set per request by ServiceAdmin.get_form; the form needs it to name the staff user as the actor.
    request = None

    def perform(self, actor: Actor):
        """Write through the service and return the saved object."""
        raise NotImplementedError

    def _post_clean(self):
        # Replaces ModelForm's model validation. The model's field validators (formats, ranges) still
        # run, but the cross-field rules are the service's: its messages name the field and say what is
        # wrong, where a violated check constraint would not, and it fills defaults (a coupon's currency)
        # before its rules apply. The database constraints still back them up.
        self._run_model_field_validators()
        self._check_instants()
        if self.errors:
            return
        try:
            with transaction.atomic(using=router.db_for_write(self._meta.model)):
                self.instance = self.perform(Actor.staff(self.request.user))
        except InvalidInput as exc:
            self.add_service_errors(exc.fields)
        except ValidationError as exc:
            # Services that call Model.full_clean (account_create) raise Django's own error.
            self.add_service_errors(exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages})
        except DomainError as exc:
            self.add_error(None, exc.message)

    def _run_model_field_validators(self) -> None:
        opts = self._meta.model._meta
        for name, value in list(self.cleaned_data.items()):
            try:
                model_field = opts.get_field(name)
            except FieldDoesNotExist:
                continue
            if value in model_field.empty_values:
                continue
            try:
                model_field.run_validators(value)
            except ValidationError as exc:
                self.add_error(name, exc)

    def _check_instants(self) -> None:
        """Every date-time a staff user enters stays within the calendar in every time zone, as the API's do."""
        for name, value in list(self.cleaned_data.items()):
            if isinstance(value, datetime) and (problem := instant_problem(value)) is not None:
                self.add_error(name, problem)

    def add_service_errors(self, errors: Mapping[str | None, Sequence[str]]) -> None:
        """Put a service's errors on the matching fields; the API's `coupon_id` is the form's `coupon`."""
        for key, field_messages in errors.items():
            field = self._form_field_for(key)
            for message in field_messages:
                if field is None and key not in (None, NON_FIELD_ERRORS):
                    message = f"{key.removesuffix('_id').replace('_', ' ').capitalize()}: {message}"
                self.add_error(field, message)

    def _form_field_for(self, key: str | None) -> str | None:
        if key in self.fields:
            return key
        if key and key.endswith("_id") and key.removesuffix("_id") in self.fields:
            return key.removesuffix("_id")
        return None

    def changed_values(self, names: Iterable[str]) -> dict:
        """The cleaned values of the fields among `names` that the user changed: an edit sends only what
        changed, so it never overwrites someone else's concurrent change to another field."""
        return {name: self.cleaned_data[name] for name in self.changed_data if name in names}

    def values(self, names: Iterable[str]) -> dict:
        return {name: self.cleaned_data[name] for name in names if name in self.cleaned_data}


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def _field_or_none(model, name: str):
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _account_path_of(model) -> str | None:
    """`account` when the model has that foreign key, else `<fk>__account` through its first foreign key
    whose model has one; None when neither."""
    account = _field_or_none(model, "account")
    if isinstance(account, models.ForeignKey | models.OneToOneField):
        return "account"
    for fk in model._meta.concrete_fields:
        if isinstance(fk, models.ForeignKey) and isinstance(
            _field_or_none(fk.related_model, "account"), models.ForeignKey
        ):
            return f"{fk.name}__account"
    return None


def _row_zone_column(model, name: str, path: str):
    """A changelist column showing the field `name` in the zone of the row's account, named."""
    steps = path.split("__") if path else []

    def column(obj):
        account = obj
        for step in steps:
            account = getattr(account, step, None)
        return local_time_text(getattr(obj, name), account)

    column.short_description = model._meta.get_field(name).verbose_name
    column.admin_order_field = name
    column.__name__ = name
    return column


class CheckedChangeList(ChangeList):
    """Django's changelist, whose query string (filters, search, date drill-down: anyone can edit it) is
    checked before it reaches the database. A parameter holding a character no row can hold (a NUL, a lone
    surrogate, a control character), or one that makes no valid query (`?expiry_date__year=99999`: a date
    past the calendar), raises IncorrectLookupParameters, which the admin answers as it answers any bad
    filter: a redirect to the list with `?e=1`. Without this, each was a 500."""

    def get_queryset(self, request, exclude_parameters=None):
        for key, values in request.GET.lists():
            for text in (key, *values):
                if unstorable(text) is not None or _CONTROL.search(text):
                    raise IncorrectLookupParameters(f"{key}: not a value any row holds")
        try:
            queryset = super().get_queryset(request, exclude_parameters)
            queryset.query.sql_with_params()  # builds the SQL, where a date past the calendar fails
        except (EmptyResultSet, FullResultSet):
            return queryset
        except (ValueError, OverflowError, ValidationError) as exc:
            raise IncorrectLookupParameters(exc) from exc
        return queryset

    def apply_select_related(self, qs):
        """The account of each row (LedgerAdmin.row_account_path) comes with it: one query for the page."""
        qs = super().apply_select_related(qs)
        path = getattr(self.model_admin, "row_account_path", lambda: None)()
        if path and qs.query.select_related is not True:
            qs = qs.select_related(path)
        return qs


class LedgerAdmin(admin.ModelAdmin):
    """The base of every staff page of the product (tests/staff check that every registered admin has it):
    its changelist checks the query string (CheckedChangeList), shows each row's times in the zone of
    that row's account, named (a list can span accounts in several zones), and its own pages beyond Django's
    are declared in `own_pages`: (route, view method, URL name suffix), each named `<app>_<model>_<suffix>`
    and behind the admin site's sign-in."""

    own_pages: tuple[tuple[str, str, str], ...] = ()

    # How a row reaches its account, as a lookup ("account", "customer__account"; "" for an account
    # itself); None (the default) works it out from the model: its `account` foreign key, or that of the
    # first foreign key whose model has one. A model with neither keeps the page's zone.
    account_path: str | None = None

    def get_changelist(self, request, **kwargs):
        return CheckedChangeList

    def search_also(self, search_term: str) -> Iterable[Q | None]:
        """Filters the list's search also matches, beyond search_fields (a whole-number column, an id)."""
        return ()

    def get_search_results(self, request, queryset, search_term):
        base = queryset
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        for also in self.search_also(search_term):
            if also is not None:
                queryset |= base.filter(also)
        return queryset, may_have_duplicates

    def get_urls(self):
        # Before Django's own URLs: their "<path:object_id>/" pattern would match these too.
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        own = [
            path(route, self.admin_site.admin_view(getattr(self, view)), name=f"{prefix}_{suffix}")
            for route, view, suffix in self.own_pages
        ]
        return [*own, *super().get_urls()]

    def row_account_path(self) -> str | None:
        if self.account_path is not None:
            return self.account_path
        return _account_path_of(self.model)

    def get_list_display(self, request):
        names = super().get_list_display(request)
        path = self.row_account_path()
        if path is None:
            return names
        columns = self.__dict__.setdefault("_row_zone_columns", {})
        shown = []
        for name in names:
            if isinstance(name, str) and isinstance(_field_or_none(self.model, name), models.DateTimeField):
                if name not in columns:
                    columns[name] = _row_zone_column(self.model, name, path)
                name = columns[name]
            shown.append(name)
        return shown


class ServiceAdmin(AccountZoneMixin, LedgerAdmin):
    """A ModelAdmin whose forms save through services (see ServiceModelForm). Nothing is ever deleted:
    there is no delete service, and history must stay whole. Times are typed in the account's zone; a
    date without a time means the end of that day."""

    form = ServiceModelForm
    formfield_overrides = {models.DateTimeField: {"form_class": LocalDateTimeField, "widget": LabelledSplitDateTime}}

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        # modelform_factory made a new class for this call, so setting the request on it is safe.
        form.request = request
        return form

    def save_form(self, request, form, change):
        return form.instance

    def save_model(self, request, obj, form, change):
        """Already saved: the form's service call wrote it while validating."""

    def save_related(self, request, form, formsets, change):
        """Nothing to save: the inlines on these pages are read-only."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method != "POST":
            return super().changeform_view(request, object_id, form_url, extra_context)
        using = router.db_for_write(self.model)
        with transaction.atomic(using=using):
            response = super().changeform_view(request, object_id, form_url, extra_context)
            # The form is shown again, so the object was not saved; but the service may already have
            # written while the form validated. Undo that, so that what the user sees is what is stored.
            # (The page renders after this block, so it reads the rolled-back state.)
            if getattr(request, "_service_admin_form_shown", False):
                transaction.set_rollback(True, using=using)
        return response

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        request._service_admin_form_shown = True
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def apply_each(
        self,
        request,
        objects: Iterable,
        perform: Callable[[object], object],
        *,
        done: tuple[str, str],
        failed_message: str,
        skip: Callable[[object], str | None] | None = None,
    ) -> list:
        """Run an action's service call on each object and report: what was done, and each object it could
        not be done to, and why (a `skip` reason, or the service's DomainError). `done` is the singular and
        plural of the success message, with %d for the count."""
        succeeded, failed = [], []
        for obj in objects:
            reason = skip(obj) if skip else None
            if reason is None:
                try:
                    perform(obj)
                except DomainError as exc:
                    reason = exc.message
            if reason is None:
                succeeded.append(obj)
            else:
                failed.append((obj, reason))
        n = len(succeeded)
        self.report(
            request, done_message=ngettext(*done, n) % n, done=succeeded, failed_message=failed_message, failed=failed
        )
        return succeeded

    def report(self, request, *, done_message: str, done: Sequence, failed_message: str, failed: Sequence) -> None:
        if done:
            self.message_user(request, f"{done_message}: {name_list(done)}.", messages.SUCCESS)
        for obj, reason in failed[:MESSAGE_NAMES_LIMIT]:
            self.message_user(request, f"{failed_message} {obj}: {reason}", messages.ERROR)
        if len(failed) > MESSAGE_NAMES_LIMIT:
            self.message_user(request, f"{failed_message} {len(failed) - MESSAGE_NAMES_LIMIT} more.", messages.ERROR)


class ReadOnlyAdmin(LedgerAdmin):
    """A history that nobody adds to, edits or deletes from the admin (services write it)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    """A read-only table of related rows on an object's page."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def name_list(objects: Sequence) -> str:
    names = ", ".join(str(obj) for obj in objects[:MESSAGE_NAMES_LIMIT])
    if len(objects) > MESSAGE_NAMES_LIMIT:
        names += f" and {len(objects) - MESSAGE_NAMES_LIMIT} more"
    return names


@dataclass(frozen=True)
class CustomerPagePiece:
    """What another app adds to the customer page. The composition (config/admin.py) hands the pieces to
    CustomerAdmin.compose, so that customers, the base domain, never imports the apps built on it.

    - `inlines`: read-only tables of the customer's rows in that app;
    - `panels`: {name: display function(customer) -> html}, shown read-only under the customer's fields;
    - `actions`: admin actions on selected customers, with `permissions` {name: Django permission} they
      name;
    - `links`: functions (request, customer_id, admin_site) -> [(label, url, css class)] for the page's
      object tools;
    - `summaries`: functions (request, customer, admin_site) -> html, shown read-only at the top of the
      page, before any form (what the customer has, at a glance);
    - `history`: functions (customer, admin_site) -> [HistoryRow], the customer's page "History" (what
      was issued, used, revoked... for the customer, from that app's own ledger)."""

    inlines: tuple = ()
    panels: Mapping[str, Callable] = field(default_factory=dict)
    actions: tuple = ()
    permissions: Mapping[str, str] = field(default_factory=dict)
    links: tuple = ()
    summaries: tuple = ()
    history: tuple = ()


@dataclass(frozen=True)
class HistoryRow:
    """One line of a customer's history: when, what happened, to what (text and link), who, and why."""

    when: datetime
    what: str
    subject: str = ""
    url: str = ""
    actor: str = ""
    detail: str = ""


def admin_page(model_admin, request, template: str, **context) -> TemplateResponse:
    """A page of the staff site about model_admin's model (an action page, a confirmation, a history): the
    site's own context (header, sidebar, the user's links), the model's `opts`, and the page's context."""
    request.current_app = model_admin.admin_site.name
    page = {**model_admin.admin_site.each_context(request), "opts": model_admin.opts, **context}
    return TemplateResponse(request, template, page)


def action_step(
    model_admin,
    request,
    form: forms.Form,
    perform: Callable[[dict], object],
    *,
    page: Callable[[forms.Form], HttpResponse],
    done: str | Callable[[object], str],
    back: str | Callable[[object], str],
    failed: str | None = None,
    level: int = messages.SUCCESS,
) -> HttpResponse:
    """The one step of every action page (redeem, revoke, top up, give a rule...): the form, then the
    service, then what happened, then back where the staff member was.

    A form not sent, or not valid, is shown: `page(form)`. A valid one calls the service,
    `perform(form.cleaned_data)`, says what was done (`done`: the text, or a function of the service's
    result) and goes `back` (a URL, or a function of the result, e.g. the page of what was created). When
    the service refuses (a DomainError), the refusal is said after `failed` ("Could not redeem ...: why")
    and the page goes back too; without `failed`, or when the refusal names a field of the form (an
    InvalidInput about a value the staff member typed, e.g. an amount more than is left by now), the
    refusal is put on the form, which is shown again. Nothing was written either way."""
    if not (form.is_bound and form.is_valid()):
        return page(form)
    try:
        result = perform(form.cleaned_data)
    except DomainError as exc:
        if isinstance(exc, InvalidInput) and form.fields.keys() & exc.fields.keys():
            for field, errors in exc.fields.items():
                form.add_error(field if field in form.fields else None, errors)
            return page(form)
        if failed is None:
            form.add_error(None, refusal_text(exc))
            return page(form)
        model_admin.message_user(request, f"{failed}: {refusal_text(exc)}", messages.ERROR)
        return HttpResponseRedirect(back)
    model_admin.message_user(request, done(result) if callable(done) else done, level)
    return HttpResponseRedirect(back(result) if callable(back) else back)


def refusal_text(exc: DomainError) -> str:
    """Why a service refused, for a staff member: every message of an InvalidInput, else its message."""
    if isinstance(exc, InvalidInput):
        return " ".join(message for field_messages in exc.fields.values() for message in field_messages)
    return exc.message


def fresh_reference(verb: str) -> str:
    """A fresh reference for a staff write that may be sent twice (a bulk redeem, a top-up), prefilled on
    its form: what it does, when (in the active zone) and a random tail."""
    return f"{verb}-{timezone.localtime():%Y%m%d-%H%M}-{secrets.token_hex(3)}"


def posted(request):
    """What a page's form is bound to: the POST's data, or nothing (an unbound form) on a GET."""
    return request.POST if request.method == "POST" else None


def safe_next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default
