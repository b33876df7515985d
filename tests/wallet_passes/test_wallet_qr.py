"""QR images are read back by a real decoder (zxing-cpp) from real pixels."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest
import segno
from PIL import Image

from tests.helpers import decode, rasterise_segno_svg
from wallet_passes import qr
from wallet_passes.dynamic_qr import issue_card_token

SAMPLES = [
    "2900000000017",
    "0000001",
    "H1.2900000000017.T7QJ4K.1O.ABCDEFGHIJKLMNOP",
    "https://happy.al/c/aGVsbG8ud29ybGQ",
    "Përshëndetje Happy — Здраво",
]


@pytest.mark.parametrize("data", SAMPLES)
@pytest.mark.parametrize("scale", [3, 8])
def test_png_decodes_to_the_same_text_at_level_m(data: str, scale: int) -> None:
    png = qr.qr_png(data, scale=scale)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    results = decode(image)
    assert [r.text for r in results] == [data]
    assert results[0].ec_level == "M"
    assert results[0].valid


def test_png_keeps_a_four_module_quiet_zone() -> None:
    symbol = qr.make_qr("2900000000017")
    modules = symbol.symbol_size(border=0)[0]
    image = Image.open(io.BytesIO(qr.qr_png("2900000000017", scale=5))).convert("L")
    assert image.size == ((modules + 8) * 5, (modules + 8) * 5)
    quiet = 4 * 5
    pixels = image.load()
    assert pixels is not None
    for x in range(image.width):
        for y in [*range(quiet), *range(image.height - quiet, image.height)]:
            assert pixels[x, y] == 255 and pixels[y, x] == 255
    assert pixels[quiet, quiet] == 0  # top-left finder pattern starts right after the zone


def test_png_is_cached() -> None:
    qr.cache_clear()
    first = qr.qr_png("2900000000017")
    assert qr.qr_png("2900000000017") is first
    assert qr.qr_png("2900000000017", scale=4) is not first


def test_rotating_token_is_small_alphanumeric_qr() -> None:
    from datetime import UTC, datetime

    token = issue_card_token(b"k" * 32, "2900000000017", datetime(2026, 1, 1, tzinfo=UTC))
    symbol = qr.make_qr(token)
    assert symbol.mode == "alphanumeric"
    assert symbol.version in (1, 2, 3)
    assert [r.text for r in decode(Image.open(io.BytesIO(qr.qr_png(token))))] == [token]


@pytest.mark.parametrize("data", SAMPLES)
def test_svg_matches_segno_matrix_and_decodes(data: str) -> None:
    svg = qr.qr_svg(data, scale=4)
    assert not svg.startswith("<?xml")
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    matrix, image = rasterise_segno_svg(svg)
    expected = [[int(bool(v)) for v in row] for row in qr.make_qr(data).matrix_iter(border=4)]
    assert matrix == expected
    results = decode(image)
    assert [r.text for r in results] == [data]
    assert results[0].ec_level == "M"


def test_svg_is_inline_html_friendly() -> None:
    svg = qr.qr_svg("2900000000017")
    assert "\n" not in svg
    ET.fromstring(svg)  # well-formed on its own


@pytest.mark.parametrize("bad", ["", "x" * 513])
def test_rejects_empty_or_oversized_data(bad: str) -> None:
    with pytest.raises(ValueError):
        qr.qr_png(bad)


def test_rejects_silly_scale() -> None:
    with pytest.raises(ValueError):
        qr.qr_png("1", scale=0)


def test_segno_default_would_boost_level() -> None:
    # Why boost_error=False matters: segno would otherwise raise short codes above M.
    assert segno.make("2900000000017", micro=False).error != "M"
    assert qr.make_qr("2900000000017").error == "M"
