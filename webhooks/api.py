"""Two API paths in the billing family's dialect (/v1beta1/):

- Frontier's admin webhooks API as the published @raystack/frontier client calls it
  (adminServiceCreateWebhook / ListWebhooks / UpdateWebhook / DeleteWebhook): the caller's account's
  endpoints, Frontier-signed; the secret is answered by create only, as Frontier does.
- `GET /v1beta1/events?since=N`: the caller's account's events after sequence number N, oldest first
  (a client that was down catches up from the last sequence number it saw)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from billing.api.family import BillingViewSet
from billing.api.serializers import ObjectField, StrictSerializer
from config.kernel.exceptions import InvalidInput
from config.kernel.scopes import ALL_SCOPES
from events import selectors as event_selectors
from events.services import events_sequence

from . import render, selectors, services
from .models import Endpoint

ADMIN = ("billing:admin",)
READ_SCOPES = tuple(s for s in ALL_SCOPES if "read" in s.lower() or "admin" in s.lower())
MAX_EVENTS = 1000


class SecretSerializer(serializers.Serializer):
    id = serializers.CharField()
    value = serializers.CharField()


class WebhookSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    description = serializers.CharField()
    url = serializers.CharField()
    subscribed_events = serializers.ListField(child=serializers.CharField())
    headers = serializers.DictField(child=serializers.CharField())
    secrets = SecretSerializer(many=True)
    state = serializers.CharField()
    metadata = serializers.DictField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class WebhookBodySerializer(StrictSerializer):
    # The webhook as written: the resource as read (WebhookSerializer) may be sent back, its read-only fields
    # (id, secrets, created_at, updated_at) as answered.
    resource_class = WebhookSerializer

    url = serializers.CharField(max_length=2000)
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    subscribed_events = serializers.ListField(child=serializers.CharField(max_length=64), required=False, default=list)
    headers = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False, default=dict)
    state = serializers.CharField(required=False, allow_blank=True, default="", max_length=10)
    metadata = ObjectField(required=False, default=dict)
    secrets = serializers.ListField(child=serializers.DictField(), read_only=True)  # as answered (list: [])


class WebhookRequestSerializer(StrictSerializer):
    body = WebhookBodySerializer()


WebhookEnvelope = inline_serializer("WebhookEnvelope", {"webhook": WebhookSerializer()})


@extend_schema_serializer(many=False)  # the vendor's list message, not an array
class WebhookList(serializers.Serializer):
    webhooks = WebhookSerializer(many=True)


ID = OpenApiParameter("id", str, OpenApiParameter.PATH, description="The webhook id, a UUID.")


def _fields(endpoint: Endpoint, secrets: list[dict] | None = None) -> dict:
    return {
        "id": endpoint.pk,
        "description": endpoint.description,
        "url": endpoint.url,
        "subscribed_events": endpoint.subscribed_events,
        "headers": endpoint.headers,
        "secrets": secrets or [],
        "state": endpoint.state,
        "metadata": endpoint.metadata,
        "created_at": endpoint.created_at,
        "updated_at": endpoint.updated_at,
    }


def _answer(endpoint: Endpoint, secrets: list[dict] | None = None) -> dict:
    return WebhookSerializer(_fields(endpoint, secrets)).data


class WebhookViewSet(BillingViewSet):
    # A created webhook's answer holds its signing secret: never stored at rest with an Idempotency-Key.
    idempotency_store_answer = False
    action_scopes = {"list": ADMIN, "create": ADMIN, "update": ADMIN, "destroy": ADMIN}
    action_error_statuses = {"list": (), "create": (400,), "update": (400, 404), "destroy": (404,)}

    def _body(self, endpoint: Endpoint | None = None) -> dict:
        """Frontier's request `{"body": {...}}`; the inner body checked against the webhook as it is now
        (an update), so that its read-only fields may be sent back as read."""
        outer = serializers.DictField()
        if not isinstance(self.request.data, dict) or set(self.request.data) != {"body"}:
            WebhookRequestSerializer(data=self.request.data).is_valid(raise_exception=True)
        inner = outer.run_validation(self.request.data["body"])
        held = _fields(endpoint) if endpoint is not None else None
        serializer = WebhookBodySerializer(held, data=inner)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @extend_schema(operation_id="adminServiceListWebhooks", responses=WebhookList)
    def list(self, request):
        endpoints = selectors.frontier_endpoints(account=self.account)
        return Response({"webhooks": [_answer(e) for e in endpoints]})

    @extend_schema(
        operation_id="adminServiceCreateWebhook", request=WebhookRequestSerializer, responses=WebhookEnvelope
    )
    def create(self, request):
        endpoint, secret = services.endpoint_create(
            account=self.account, actor=self.actor, kind=Endpoint.Kind.FRONTIER, **self._body()
        )
        return Response({"webhook": _answer(endpoint, [{"id": services.FRONTIER_SECRET_ID, "value": secret}])})

    @extend_schema(
        operation_id="adminServiceUpdateWebhook",
        parameters=[ID],
        request=WebhookRequestSerializer,
        responses=WebhookEnvelope,
    )
    def update(self, request, id):
        endpoint = selectors.frontier_endpoint_get(account=self.account, id=id)
        endpoint = services.endpoint_update(endpoint=endpoint, actor=self.actor, **self._body(endpoint))
        return Response({"webhook": _answer(endpoint)})

    @extend_schema(operation_id="adminServiceDeleteWebhook", parameters=[ID], responses=inline_serializer("Empty", {}))
    def destroy(self, request, id):
        services.endpoint_delete(
            endpoint=selectors.frontier_endpoint_get(account=self.account, id=id), actor=self.actor
        )
        return Response({})


class EventSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    type = serializers.CharField()
    account_id = serializers.CharField()
    sequence = serializers.IntegerField()
    timestamp = serializers.CharField()
    data = serializers.DictField()


@extend_schema_serializer(many=False)
class EventList(serializers.Serializer):
    events = EventSerializer(many=True)
    next_since = serializers.IntegerField()


class EventViewSet(BillingViewSet):
    action_scopes = {"list": READ_SCOPES}
    action_error_statuses = {"list": (400,)}

    @extend_schema(
        operation_id="listEvents",
        parameters=[
            OpenApiParameter("since", int, description="Answer the events after this sequence number (default 0)."),
            OpenApiParameter("limit", int, description=f"At most this many (default and most: {MAX_EVENTS})."),
        ],
        responses=EventList,
    )
    def list(self, request):
        since, limit = self._int("since", 0), self._int("limit", MAX_EVENTS)
        if since < 0 or not 1 <= limit <= MAX_EVENTS:
            raise InvalidInput.single("since", f"since is 0 or more; limit from 1 to {MAX_EVENTS}.")
        events_sequence(account_id=self.account.pk)
        events = list(event_selectors.events_since(account_id=self.account.pk, after=since)[:limit])
        return Response(
            {"events": [render.envelope(e) for e in events], "next_since": events[-1].sequence if events else since}
        )

    def _int(self, name: str, default: int) -> int:
        raw = self.request.query_params.get(name)
        if raw is None:
            return default
        if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
            raise InvalidInput.single(name, f"{name} must be a whole number.")
        return int(raw)
