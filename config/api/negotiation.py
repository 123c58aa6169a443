"""The content negotiation of every API view."""

from types import SimpleNamespace

from rest_framework.negotiation import DefaultContentNegotiation

# (Accept header, format asked for, the view's renderers) -> (index of the chosen renderer, media type).
# Clients send the same few Accept headers over and over; the header is client-controlled, so the memo
# stops growing at _CHOSEN_MAX entries (anything else is negotiated afresh each time, as before).
_CHOSEN: dict[tuple, tuple[int, str]] = {}
_CHOSEN_MAX = 256


class ContentNegotiation(DefaultContentNegotiation):
    """DRF's own negotiation, with two savings on every API request; what is chosen is DRF's, unchanged.
    - The Accept header is read from the WSGI environ: DRF reads it through request.headers, which builds
      a dict of every request header on first use (about 50 calls, the one reader of that dict on an API
      request).
    - The renderer chosen for an Accept header (and format) is remembered: DRF parses the header and
      matches it against each renderer's media type on every request (about 3% of a redeem's CPU under
      load). The choice depends on nothing else: the header, the format, and the renderers' classes,
      media types and formats, which are all in the key. A refusal (406) is never remembered."""

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
            _CHOSEN[key] = (next(i for i, each in enumerate(renderers) if each is renderer), media_type)
        return renderer, media_type
