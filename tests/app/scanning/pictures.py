"""Real barcode pictures for the scanning tests, made with zxing-cpp's encoder."""

from __future__ import annotations

from datetime import date
from typing import Any

import cv2
import numpy as np
import zxingcpp
from numpy.typing import NDArray

from domain.data import load_rules
from domain.gs1 import encode_gs1

Image = NDArray[np.uint8]

#: A vial of the first catalogue product, as its GS1 DataMatrix encodes it.
VIAL_GTIN = load_rules().catalogue.products[0].gtins[0]
VIAL_EXPIRY = date(2027, 3, 31)
VIAL_LOT = "FK4312"
VIAL_SERIAL = "SN000123456"


def barcode(content: str, format_name: str, *, scale: int = 6, **options: Any) -> Image:
    """`content` encoded as `format_name` by zxing-cpp, as a grayscale picture with quiet zone."""
    symbol = zxingcpp.create_barcode(
        content, getattr(zxingcpp.BarcodeFormat, format_name), **options
    )
    return np.array(symbol.to_image(scale=scale), dtype=np.uint8)


def vial_datamatrix(*, scale: int = 6) -> Image:
    """The GS1 DataMatrix of the test vial (FNC1 first, GS between lot and serial)."""
    text = f"(01){VIAL_GTIN}(17){VIAL_EXPIRY:%y%m%d}(10){VIAL_LOT}(21){VIAL_SERIAL}"
    return barcode(text, "DataMatrix", scale=scale, gs1=True)


def vial_element_string() -> str:
    return encode_gs1(VIAL_GTIN, VIAL_EXPIRY, VIAL_LOT, VIAL_SERIAL)


def camera_frame(
    symbol: Image,
    *,
    size: tuple[int, int] = (720, 1280),
    angle: float = 0.0,
    noise: float = 0.0,
    at: tuple[int, int] | None = None,
    seed: int = 7,
    bgr: bool = True,
) -> Image:
    """`symbol` placed on a grey desk in a frame of `size` (height, width), rotated and noisy."""
    height, width = size
    rng = np.random.default_rng(seed)
    frame = np.full((height, width), 150, dtype=np.uint8)
    if angle:
        h, w = symbol.shape
        side = int(np.hypot(h, w)) + 4
        padded = np.full((side, side), 255, dtype=np.uint8)
        padded[(side - h) // 2 : (side - h) // 2 + h, (side - w) // 2 : (side - w) // 2 + w] = (
            symbol
        )
        matrix = cv2.getRotationMatrix2D((side / 2, side / 2), angle, 1.0)
        symbol = np.asarray(
            cv2.warpAffine(padded, matrix, (side, side), borderValue=255), dtype=np.uint8
        )
    h, w = symbol.shape
    top, left = at if at is not None else ((height - h) // 2, (width - w) // 2)
    frame[top : top + h, left : left + w] = symbol
    if noise:
        noisy = frame.astype(np.float32) + rng.normal(0.0, noise, frame.shape)
        frame = np.clip(noisy, 0, 255).astype(np.uint8)
    if bgr:
        return np.ascontiguousarray(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR))
    return frame
