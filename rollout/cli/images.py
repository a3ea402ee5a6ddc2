"""Images a thread carries, as something safe to put in a page.

Only raster images inlined as base64 ``data:`` URIs are shown (PNG, JPEG, GIF,
WebP, BMP): the URI is rebuilt from a checked media type and a checked base64
body, so nothing from the thread reaches an ``src`` attribute unvetted. Remote
URLs are never loaded (a view must not touch the network) and local paths are
never read (a page shared from one machine must not carry another file's
bytes): both are shown as a label only. SVG is refused too (it can hold script).

Must not import: rich, store, replay.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Image", "from_base64", "from_path", "from_url"]

_RASTER = {"image/png", "image/jpeg", "image/jpg", "image/gif", "image/webp", "image/bmp"}
_DATA_URI = re.compile(r"data:(?P<mime>[a-zA-Z0-9.+/-]+)(?:;[a-zA-Z0-9=.+-]+)*;base64,(?P<body>.*)", re.S)
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")


@dataclass(frozen=True)
class Image:
    """An image: a vetted ``data:`` URI to inline, or only a label to print.

    Attributes:
        uri: ``data:image/...;base64,...`` safe for an ``src`` attribute, or None.
        label: what it is (``image/png, 12.3 kB``, a URL, a path), always set.
    """

    uri: str | None
    label: str


def _size(count: int) -> str:
    return f"{count} B" if count < 1000 else f"{count / 1000:.1f} kB" if count < 1_000_000 else f"{count / 1e6:.1f} MB"


def from_base64(body: str, mime: str) -> Image:
    """An image from base64 data and a media type (MCP results, generated images)."""
    mime = mime.lower()
    body = re.sub(r"\s+", "", body)
    if mime not in _RASTER:
        return Image(None, f"{mime or 'unknown type'} image (not shown)")
    if not body or not _BASE64.fullmatch(body):
        return Image(None, f"{mime} image (damaged data, not shown)")
    # The body is nothing but base64 characters, so it cannot break out of the attribute.
    return Image(f"data:{mime};base64,{body}", f"{mime}, {_size(len(body) * 3 // 4)}")


def from_url(url: str) -> Image:
    """An image from a URL: inlined if it is a raster ``data:`` URI, else only named."""
    match = _DATA_URI.match(url)
    if match:
        return from_base64(match.group("body"), match.group("mime"))
    if url.startswith("data:"):
        return Image(None, "inline image in an unsupported encoding (not shown)")
    return Image(None, f"remote image, not loaded: {url}")


def from_path(path: str) -> Image:
    """A local image file, named but never read."""
    return Image(None, f"local image: {path}")
