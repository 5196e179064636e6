"""Draw Comptoir's app icons (PNG, ICO, SVG) with the Python standard library only.

Run from pwa/: ``python3 scripts/make_icons.py``. The outputs are committed in public/,
so building the app needs no Python; rerun this only when the logo changes.

The logo: a white "C" (an open ring with round ends) and an amber dot, on the brand green.
Every shape is a signed distance, so the PNGs are anti-aliased by supersampling and the
SVG draws the very same geometry.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

PUBLIC = Path(__file__).resolve().parent.parent / "public"

BRAND = (11, 93, 85)  # #0b5d55, also the manifest's theme colour
WHITE = (255, 255, 255)
AMBER = (242, 169, 59)  # #f2a93b

# Geometry in a unit square (0..1), centre (0.5, 0.5).
RING_RADIUS = 0.25  # centre line of the C
RING_HALF_WIDTH = 0.075
GAP_HALF_ANGLE = math.radians(42)  # the C's opening, facing right
DOT_RADIUS = 0.07
CORNER = 0.22  # rounded-square corner radius of the "any" icons

Shade = Callable[[float, float], tuple[float, float, float, float]]


def ring_distance(x: float, y: float, scale: float) -> float:
    """Signed distance to the C: an arc of the ring with round caps at both ends."""
    dx, dy = x - 0.5, y - 0.5
    r = RING_RADIUS * scale
    w = RING_HALF_WIDTH * scale
    angle = math.atan2(dy, dx)
    if abs(angle) >= GAP_HALF_ANGLE:
        return abs(math.hypot(dx, dy) - r) - w
    # Inside the opening: the nearest part of the C is one of its two round ends.
    cx, cy = r * math.cos(GAP_HALF_ANGLE), r * math.sin(GAP_HALF_ANGLE)
    return min(math.hypot(dx - cx, dy - cy), math.hypot(dx - cx, dy + cy)) - w


def rounded_square_distance(x: float, y: float, corner: float) -> float:
    qx = abs(x - 0.5) - (0.5 - corner)
    qy = abs(y - 0.5) - (0.5 - corner)
    outside = math.hypot(max(qx, 0.0), max(qy, 0.0))
    return outside + min(max(qx, qy), 0.0) - corner


def opaque(rgb: tuple[int, int, int]) -> tuple[float, float, float, float]:
    return (float(rgb[0]), float(rgb[1]), float(rgb[2]), 1.0)


def shader(*, full_bleed: bool, scale: float) -> Shade:
    """Colour at a point: background shape, then the C, then the dot, each covering the last."""

    def shade(x: float, y: float) -> tuple[float, float, float, float]:
        inside_bg = True if full_bleed else rounded_square_distance(x, y, CORNER) <= 0
        if not inside_bg:
            return (0.0, 0.0, 0.0, 0.0)
        if math.hypot(x - 0.5, y - 0.5) <= DOT_RADIUS * scale:
            return opaque(AMBER)
        if ring_distance(x, y, scale) <= 0:
            return opaque(WHITE)
        return opaque(BRAND)

    return shade


def render(size: int, shade: Shade, samples: int = 4) -> bytes:
    """RGBA rows, each pixel the average of samples x samples points (premultiplied)."""
    rows = bytearray()
    n = samples * samples
    for py in range(size):
        rows.append(0)  # PNG filter type "none"
        for px in range(size):
            r = g = b = a = 0.0
            for sy in range(samples):
                for sx in range(samples):
                    cr, cg, cb, ca = shade(
                        (px + (sx + 0.5) / samples) / size, (py + (sy + 0.5) / samples) / size
                    )
                    r += cr * ca
                    g += cg * ca
                    b += cb * ca
                    a += ca
            if a == 0:
                rows += b"\0\0\0\0"
            else:
                rows += bytes((round(r / a), round(g / a), round(b / a), round(255 * a / n)))
    return bytes(rows)


def png(size: int, shade: Shade) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(render(size, shade), 9))
        + chunk(b"IEND", b"")
    )


def ico(images: list[tuple[int, bytes]]) -> bytes:
    """An .ico holding PNG images (supported by every browser since IE 9)."""
    head = struct.pack("<HHH", 0, 1, len(images))
    offset = 6 + 16 * len(images)
    entries = b""
    for size, data in images:
        entries += struct.pack("<BBBBHHII", size % 256, size % 256, 0, 0, 1, 32, len(data), offset)
        offset += len(data)
    return head + entries + b"".join(data for _, data in images)


def svg() -> str:
    r, w = RING_RADIUS * 100, RING_HALF_WIDTH * 200
    x0 = 50 + r * math.cos(GAP_HALF_ANGLE)
    y0 = 50 - r * math.sin(GAP_HALF_ANGLE)
    y1 = 50 + r * math.sin(GAP_HALF_ANGLE)
    hexes = ["#" + "".join(f"{v:02x}" for v in c) for c in (BRAND, WHITE, AMBER)]
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">'
        f'<rect width="100" height="100" rx="{CORNER * 100:g}" fill="{hexes[0]}"/>'
        f'<path d="M{x0:.2f} {y0:.2f}A{r:g} {r:g} 0 1 0 {x0:.2f} {y1:.2f}" fill="none" '
        f'stroke="{hexes[1]}" stroke-width="{w:g}" stroke-linecap="round"/>'
        f'<circle cx="50" cy="50" r="{DOT_RADIUS * 100:g}" fill="{hexes[2]}"/></svg>\n'
    )


def main() -> None:
    icons = PUBLIC / "icons"
    icons.mkdir(parents=True, exist_ok=True)
    any_icon = shader(full_bleed=False, scale=1.0)
    # Maskable: the launcher crops to its own shape, keeping a centred circle of 80 %:
    # full-bleed background and the logo shrunk into that safe zone.
    maskable = shader(full_bleed=True, scale=0.8)
    # iOS rounds the corners itself and shows transparency as black: full bleed too.
    apple = shader(full_bleed=True, scale=0.9)
    (icons / "icon-192.png").write_bytes(png(192, any_icon))
    (icons / "icon-512.png").write_bytes(png(512, any_icon))
    (icons / "maskable-512.png").write_bytes(png(512, maskable))
    (icons / "apple-touch-icon-180.png").write_bytes(png(180, apple))
    (PUBLIC / "favicon.ico").write_bytes(ico([(s, png(s, any_icon)) for s in (16, 32, 48)]))
    (PUBLIC / "favicon.svg").write_text(svg())


if __name__ == "__main__":
    main()
