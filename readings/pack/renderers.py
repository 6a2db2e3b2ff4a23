"""DRF renderers for the session pack: `?format=` json (default), md, html, pdf, epub (the last two by a worker)."""

import orjson
from rest_framework.renderers import BaseRenderer

from . import formats


class PackRenderer(BaseRenderer):
    """Renders a pack dict; passes finished bytes (a PDF from the cache, say) through untouched."""

    extension = "json"
    disposition = "attachment"
    # Formats worth keeping are rendered once per pack version, in the request, and kept in the cache.
    cache_rendered = False
    # Formats that can take long are rendered by a worker, once per pack version, into the shared
    # cache (readings/services/pack_files.py); a request only serves them or says when to come back.
    rendered_by_worker = False

    def build(self, pack: dict) -> bytes:
        raise NotImplementedError

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        if isinstance(data, bytes):
            return data
        return self.build(data)


class PackJSONRenderer(PackRenderer):
    media_type = "application/json"
    format = "json"
    charset = None
    disposition = "inline"
    cache_rendered = True  # the version covers all of it, so a pack is built once per version

    def build(self, pack: dict) -> bytes:
        return orjson.dumps(pack)


class PackMarkdownRenderer(PackRenderer):
    media_type = "text/markdown"
    format = "md"
    extension = "md"
    charset = "utf-8"
    cache_rendered = True  # every note's Markdown is parsed again to write it out inert

    def build(self, pack: dict) -> bytes:
        return formats.markdown(pack)


class PackHTMLRenderer(PackRenderer):
    media_type = "text/html"
    format = "html"
    extension = "html"
    charset = "utf-8"
    disposition = "inline"

    def build(self, pack: dict) -> bytes:
        return formats.html(pack)


class PackPDFRenderer(PackRenderer):
    media_type = "application/pdf"
    format = "pdf"
    extension = "pdf"
    charset = None
    rendered_by_worker = True

    def build(self, pack: dict) -> bytes:
        return formats.pdf(pack)


class PackEPUBRenderer(PackRenderer):
    media_type = "application/epub+zip"
    format = "epub"
    extension = "epub"
    charset = None
    rendered_by_worker = True

    def build(self, pack: dict) -> bytes:
        return formats.epub(pack)


PACK_RENDERERS = [PackJSONRenderer, PackMarkdownRenderer, PackHTMLRenderer, PackPDFRenderer, PackEPUBRenderer]
