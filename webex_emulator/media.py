"""Real bytes for generated attachments and avatars.

Downloads, hashes, de-duplication and the HTML image pop-up are only tested honestly against
files that are what they claim to be, so images are valid PNGs and other files carry the right
magic numbers. Bytes are made on demand from a seed: a 100,000-message data set costs no memory
until someone downloads its files.
"""

from __future__ import annotations

import random
import struct
import zlib
from dataclasses import dataclass

# Magic numbers so that content sniffers agree with the declared type.
_MAGIC = {
    "application/pdf": b"%PDF-1.4\n",
    "application/zip": b"PK\x03\x04",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": b"PK\x03\x04",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": b"PK\x03\x04",
    "audio/mp4": b"\x00\x00\x00\x18ftypM4A ",
}


def png(width: int, height: int, seed: int) -> bytes:
    """A valid RGB PNG: a seeded gradient, so each image differs and compresses realistically."""
    rng = random.Random(seed)
    r0, g0, b0 = rng.randrange(256), rng.randrange(256), rng.randrange(256)
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter type "None" for this scanline
        for x in range(width):
            rows += bytes(((r0 + x) % 256, (g0 + y) % 256, (b0 + x + y) % 256))

    def chunk(tag: bytes, data: bytes) -> bytes:
        body = tag + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 6))
        + chunk(b"IEND", b"")
    )


def svg(seed: int) -> bytes:
    rng = random.Random(seed)
    colour = f"#{rng.randrange(0x1000000):06x}"
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="80">'
        f'<rect width="120" height="80" fill="{colour}"/>'
        '<text x="10" y="45" font-size="14">diagram</text></svg>'
    ).encode()


def filler(content_type: str, size: int, seed: int) -> bytes:
    """``size`` bytes that start with the type's magic number; text types get readable text."""
    rng = random.Random(seed)
    if content_type.startswith("text/"):
        words = [b"archive", b"webex", b"space", b"note", b"minutes", b"draft", b"review"]
        out = bytearray()
        while len(out) < size:
            out += rng.choice(words) + (b"\n" if rng.random() < 0.1 else b" ")
        return bytes(out[:size])
    magic = _MAGIC.get(content_type, b"")
    return (magic + rng.randbytes(max(0, size - len(magic))))[: max(size, len(magic))]


@dataclass(frozen=True)
class Recipe:
    """How to make a content's bytes again: kind (png, svg, filler), size or dimensions, seed."""

    kind: str
    seed: int
    size: int = 0
    width: int = 0
    height: int = 0

    def make(self, content_type: str) -> bytes:
        if self.kind == "png":
            return png(self.width, self.height, self.seed)
        if self.kind == "svg":
            return svg(self.seed)
        return filler(content_type, self.size, self.seed)

    def to_json(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v}

    @classmethod
    def from_json(cls, data: dict) -> Recipe:
        return cls(
            kind=data["kind"],
            seed=int(data.get("seed", 0)),
            size=int(data.get("size", 0)),
            width=int(data.get("width", 0)),
            height=int(data.get("height", 0)),
        )
