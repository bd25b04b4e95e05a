"""Brand images served by lockhub itself: `GET /_lockhub/images/brands/<brand>.svg`.

Devices, connected accounts, device providers and the device database name these as their
`image_url`s (`Brand.image_url`, on the public base URL), so an app showing them (Seam's own
components among them) loads nothing from another host. Each image is the brand's logo tile
from the catalogue (its monogram on its colour), the same tile the Connect Webview picker
draws; no brand's own logo file is shipped.

The images change only when the catalogue does, i.e. with a lockhub release: they are cached
for a day and revalidated by ETag. An SVG opened directly is a document, so it is served with a
policy that lets it run nothing.
"""

from __future__ import annotations

import hashlib
from html import escape

from litestar import Request, Response, get
from litestar.handlers import HTTPRouteHandler

from lockhub.catalogue import IMAGES_PATH, Brand, brands
from lockhub.errors import NotFound

SVG_TYPE = "image/svg+xml"
CACHE_CONTROL = "public, max-age=86400"
CSP = "default-src 'none'; style-src 'unsafe-inline'"
SIZE = 256  # nominal pixels; the drawing is a 48-unit square and scales


def brand_svg(brand: Brand) -> str:
    """The brand's tile as a standalone SVG document, titled with the brand's name."""
    name = escape(brand.display_name)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{SIZE}" height="{SIZE}" '
        f'viewBox="0 0 48 48" role="img" aria-label="{name}">'
        f"<title>{name}</title>"
        f'<rect width="48" height="48" rx="10" fill="{escape(brand.logo.color)}"/>'
        f'<text x="24" y="30" text-anchor="middle" font-family="system-ui, sans-serif" '
        f'font-size="17" font-weight="700" fill="{brand.logo.text_color}">'
        f"{escape(brand.logo.mark)}</text></svg>\n"
    )


def route_handlers() -> list[HTTPRouteHandler]:
    images = {f"{key}.svg": brand_svg(brand).encode() for key, brand in brands().items()}
    etags = {name: '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
             for name, body in images.items()}

    @get(f"{IMAGES_PATH}/{{file_name:str}}", name="brand_image", media_type=SVG_TYPE)
    async def brand_image(request: Request[object, object, object],
                          file_name: str) -> Response[bytes]:
        body = images.get(file_name)
        if body is None:
            raise NotFound("brand_image", {"file_name": file_name})
        headers = {"Cache-Control": CACHE_CONTROL, "ETag": etags[file_name],
                   "Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff"}
        if request.headers.get("if-none-match") == etags[file_name]:
            return Response(b"", status_code=304, headers=headers, media_type=SVG_TYPE)
        return Response(body, headers=headers, media_type=SVG_TYPE)

    return [brand_image]
