from rest_framework.permissions import BasePermission

from config.kernel import scopes


def required_scopes(view, request) -> tuple[str, ...]:
    """A view lists, per HTTP method, the scopes of which any one is enough."""
    by_method = getattr(view, "required_scopes", None) or {}
    method = "GET" if request.method == "HEAD" else request.method
    return tuple(by_method.get(method, ()))


class HasScope(BasePermission):
    """An authenticated API client holding any one of the scopes the view lists for the method.
    A view that lists none for a method refuses it: access is granted explicitly, never by default."""

    message = "The API client does not have the scope this operation needs."

    def has_permission(self, request, view) -> bool:
        client = request.user
        if not getattr(client, "is_api_client", False):
            return False
        if request.method == "OPTIONS" or not hasattr(view, request.method.lower()):
            return True  # a method the view lacks answers 405, not 403
        needed = required_scopes(view, request)
        return bool(needed) and scopes.grants_any(client.scopes, needed)
