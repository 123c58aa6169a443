"""The content negotiation of every API view."""

from types import SimpleNamespace

from rest_framework.negotiation import DefaultContentNegotiation


class ContentNegotiation(DefaultContentNegotiation):
    """DRF's own negotiation, reading the Accept header from the WSGI environ: DRF reads it through
    request.headers, which builds a dict of every request header on first use (about 50 calls, the one
    reader of that dict on an API request). What is done with the header is DRF's, unchanged."""

    def get_accept_list(self, request):
        accept = request.META.get("HTTP_ACCEPT")
        return super().get_accept_list(SimpleNamespace(headers={} if accept is None else {"accept": accept}))
