"""The content negotiation of every API view."""

from types import SimpleNamespace

from rest_framework.negotiation import DefaultContentNegotiation

# (Accept header, format asked for, the view's renderers) -> (index of the chosen renderer, media type), and
# (Content-Type, the view's parsers) -> index of the chosen parser. Clients send the same few headers over
# and over; the headers are client-controlled, so the memo stops growing at _CHOSEN_MAX entries (anything
# else is negotiated afresh each time, as before).
_CHOSEN: dict[tuple, tuple[int, str] | int] = {}
_CHOSEN_MAX = 256


def _index(chosen, among) -> int:
    return next(i for i, each in enumerate(among) if each is chosen)


class ContentNegotiation(DefaultContentNegotiation):
    """DRF's own negotiation, with two savings on every API request; what is chosen is DRF's, unchanged.
    - The Accept header is read from the WSGI environ: DRF reads it through request.headers, which builds
      a dict of every request header on first use (about 50 calls, the one reader of that dict on an API
      request).
    - The renderer chosen for an Accept header (and format), and the parser chosen for a Content-Type,
      are remembered: DRF parses the header and matches it against each renderer's or parser's media type
      on every request (about 3% of a redeem's CPU under load). The choice depends on nothing else: the
      header, the format, and the renderers' or parsers' classes and media types (and formats), which
      are all in the key. A refusal (406, 415) is never remembered."""

    def get_accept_list(self, request):
        accept = request.META.get("HTTP_ACCEPT")
        return super().get_accept_list(SimpleNamespace(headers={} if accept is None else {"accept": accept}))

    def select_renderer(self, request, renderers, format_suffix=None):
        asked = format_suffix or request.query_params.get(self.settings.URL_FORMAT_OVERRIDE)
        key = (
            request.META.get("HTTP_ACCEPT"),
            asked,
            tuple((type(renderer), renderer.media_type, renderer.format) for renderer in renderers),
        )
        chosen = _CHOSEN.get(key)
        if chosen is not None:
            index, media_type = chosen
            return renderers[index], media_type
        renderer, media_type = super().select_renderer(request, renderers, format_suffix)
        if len(_CHOSEN) < _CHOSEN_MAX:
            _CHOSEN[key] = (_index(renderer, renderers), media_type)
        return renderer, media_type

    def select_parser(self, request, parsers):
        key = (request.content_type, tuple((type(parser), parser.media_type) for parser in parsers))
        chosen = _CHOSEN.get(key)
        if chosen is not None:
            return parsers[chosen]
        parser = super().select_parser(request, parsers)
        if parser is not None and len(_CHOSEN) < _CHOSEN_MAX:
            _CHOSEN[key] = _index(parser, parsers)
        return parser
