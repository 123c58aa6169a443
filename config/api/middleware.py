import logging

from django.http import HttpRequest, HttpResponse

from . import dialects, errors, request_id
from .dialects import Problem

logger = logging.getLogger("config.api")


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        value = request_id.choose(request.headers.get(request_id.HEADER))
        request.request_id = value
        token = request_id.bind(value)
        try:
            response = self.get_response(request)
        finally:
            request_id.unbind(token)
        response[request_id.HEADER] = value
        return response


_GENERIC = {
    404: Problem("not_found", "The requested path does not exist.", "not_found"),
    405: Problem("method_not_allowed", "Method not allowed.", "method_not_allowed"),
    400: Problem("malformed", "Bad request.", "malformed"),
    403: Problem("forbidden", "Forbidden.", "forbidden"),
}


class FamilyErrorMiddleware:
    """Errors that never reach a DRF view (unknown paths, unexpected exceptions, oversized bodies read
    by Django itself) still answer JSON in the dialect of the family whose path prefix was asked."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code < 400 or response.get("Content-Type", "").startswith("application/json"):
            return response
        dialect = dialects.for_path(request.path)
        if dialect is None:
            return response
        problem = _GENERIC.get(response.status_code)
        if problem is None:
            return response
        return errors.render(problem, dialect)

    def process_exception(self, request: HttpRequest, exception: Exception):
        dialect = dialects.for_path(request.path)
        if dialect is None:
            return None
        problem = errors.problem_from_exception(exception)
        if problem is None:
            logger.error("unhandled error in %s %s", request.method, request.path, exc_info=exception)
            problem = errors.internal_problem()
        return errors.render(problem, dialect)
