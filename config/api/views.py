from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import DatabaseError
from rest_framework.generics import GenericAPIView
from rest_framework.metadata import SimpleMetadata
from rest_framework.viewsets import ViewSetMixin

from config.kernel.actors import Actor

from . import idempotency
from .parsers import JSONParser
from .serializers import StrictInputSerializer

if TYPE_CHECKING:
    from customers.models import Account, ApiClient


class FamilyMetadata(SimpleMetadata):
    """What OPTIONS answers: the view's name, description and media types. Request bodies are described by
    the OpenAPI document (/api/schema/); DRF's default would build them from `serializer_class`, which
    these views do not set, and fail with a 500."""

    def determine_metadata(self, request, view) -> dict:
        return {
            "name": view.get_view_name(),
            "description": view.get_view_description(),
            "renders": [renderer.media_type for renderer in view.renderer_classes],
            "parses": [parser.media_type for parser in view.parser_classes],
        }


class FamilyAPIView(GenericAPIView):
    """Base of every API view: names its family's dialect and its scopes per method, and gives the
    caller's account and actor. Views never reach past `self.account`."""

    dialect: str = ""
    metadata_class = FamilyMetadata
    parser_classes = [JSONParser]
    required_scopes: dict[str, tuple[str, ...]] = {}

    @property
    def client(self) -> ApiClient:
        return self.request.user

    @property
    def account(self) -> Account:
        return self.request.user.account

    @property
    def actor(self) -> Actor:
        return Actor.client(self.request.user)

    def valid(
        self, serializer_class: type[StrictInputSerializer], *, instance=None, partial=False, data=None, **context
    ):
        """The one way every view reads a request body (or `data`): through `serializer_class`, which must be a
        StrictInputSerializer, validated, raising on invalid input (4xx in the family's dialect). Answers the
        validated values; `context` is added to the view's serializer context."""
        if not issubclass(serializer_class, StrictInputSerializer):
            raise TypeError(f"{serializer_class.__name__} reads a request body: make it a StrictInputSerializer")
        serializer = serializer_class(
            instance,
            data=self.request.data if data is None else data,
            partial=partial,
            context={**self.get_serializer_context(), **context},
        )
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    # --- Idempotency-Key (config/api/idempotency.py) ---

    # False for answers that must never be stored at rest (access tokens): the key is then ignored.
    idempotency_store_answer = True
    idempotency_claim = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.idempotency_claim = idempotency.begin(request, store_answer=self.idempotency_store_answer)

    def finalize_response(self, request, response, *args, **kwargs):
        claim, self.idempotency_claim = self.idempotency_claim, None
        if claim is not None:
            try:
                idempotency.finish(claim, response)
            except DatabaseError as exc:  # the effect and its answer could not be committed: nothing was
                response = self.handle_exception(exc)  # written, so say 503 and let the client retry
        return super().finalize_response(request, response, *args, **kwargs)


class ActionRoutedViewSetMixin(ViewSetMixin):
    """The one route-class mechanism of every family: a ViewSet (this mixin before the family's base view)
    whose actions are routed one path at a time (`as_view({"get": "list"})`) to the vendor's exact paths.
    Scopes and documented error statuses are declared per action (`action_scopes`, `action_error_statuses`);
    each route's view class gets them for the HTTP methods it maps, so that a route lists exactly the
    methods it serves (the permission check, the OpenAPI document, the route tests)."""

    action_scopes: dict[str, tuple[str, ...]] = {}
    action_error_statuses: dict[str, tuple[int, ...]] = {}

    @classmethod
    def as_view(cls, actions=None, **initkwargs):
        methods = {method.upper(): action for method, action in (actions or {}).items()}
        route_class = type(
            cls.__name__,
            (cls,),
            {
                "__module__": cls.__module__,
                "__qualname__": cls.__qualname__,
                "__doc__": cls.__doc__,
                "required_scopes": {method: cls.action_scopes[action] for method, action in methods.items()},
                "error_statuses": {
                    method: cls.action_error_statuses.get(action, ()) for method, action in methods.items()
                },
            },
        )
        view = super(ActionRoutedViewSetMixin, route_class).as_view(actions, **initkwargs)
        view.view_class = route_class
        return view
