"""Draw the pass images in ``wallet_passes/assets``: ``python -m wallet_passes.make_assets``.

The committed PNGs are the product of this script; it is kept so the artwork can be redrawn.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ORANGE = (242, 113, 28, 255)
YELLOW = (255, 201, 40, 255)
WHITE = (255, 255, 255, 255)
INK = (122, 52, 0, 255)
SUPERSAMPLE = 8
ASSETS = Path(__file__).resolve().parent / "assets"


def _smile(draw: ImageDraw.ImageDraw, box: tuple[float, float, float, float]) -> None:
    """A yellow sun-face with a smile, inside ``box`` (left, top, right, bottom)."""
    left, top, right, bottom = box
    size = right - left
    draw.ellipse(box, fill=YELLOW)
    eye = size * 0.085
    for cx in (left + size * 0.34, left + size * 0.66):
        cy = top + size * 0.38
        draw.ellipse((cx - eye, cy - eye, cx + eye, cy + eye), fill=INK)
    inset = size * 0.22
    draw.arc(
        (left + inset, top + inset, right - inset, bottom - inset),
        start=25,
        end=155,
        fill=INK,
        width=max(1, round(size * 0.085)),
    )


def icon(pixels: int) -> Image.Image:
    """Square icon: the smile on a warm orange tile (full bleed, iOS rounds it)."""
    big = pixels * SUPERSAMPLE
    image = Image.new("RGBA", (big, big), ORANGE)
    margin = big * 0.12
    _smile(ImageDraw.Draw(image), (margin, margin, big - margin, big - margin))
    return image.resize((pixels, pixels), Image.Resampling.LANCZOS)


def logo(scale: int) -> Image.Image:
    """160x50 (points) logo: the smile and the word "Happy" on transparent ground."""
    width, height = 160 * scale * SUPERSAMPLE, 50 * scale * SUPERSAMPLE
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    pad = height * 0.08
    _smile(draw, (pad, pad, height - pad, height - pad))
    font = ImageFont.load_default(size=height * 0.62)
    draw.text((height * 1.08, height * 0.5), "Happy", font=font, fill=WHITE, anchor="lm")
    return image.resize((160 * scale, 50 * scale), Image.Resampling.LANCZOS)


def main() -> None:
    ASSETS.mkdir(exist_ok=True)
    for suffix, factor in (("", 1), ("@2x", 2), ("@3x", 3)):
        icon(29 * factor).save(ASSETS / f"icon{suffix}.png", optimize=True)
        logo(factor).save(ASSETS / f"logo{suffix}.png", optimize=True)


if __name__ == "__main__":
    main()
