"""Tipsters' photos: accepted for what their bytes are, stored without their metadata.

A phone writes into a photo's EXIF where it was taken (GPS), when, and which device took it:
for a tip, that can say who sent it and where they live. So a photo is decoded (which also
proves it is an image, whatever its name or declared type says), turned upright as the phone
showed it, and encoded again with nothing but its pixels and its colour profile: no EXIF, XMP
or comments. Very large photos are scaled down to MAX_SIDE pixels. Pure code (Pillow).
"""
from io import BytesIO

from PIL import Image, ImageOps, UnidentifiedImageError

FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
MAX_PIXELS = 50_000_000   # a 50-megapixel phone photo; more is refused before decoding
MAX_SIDE = 4096
JPEG_QUALITY = 90
# What a decoded photo may still carry: how to show it, never who, where or when.
HARMLESS_INFO = {"jfif", "jfif_version", "jfif_unit", "jfif_density", "dpi", "icc_profile", "progressive",
                 "progression", "adobe", "adobe_transform", "loop", "background", "duration", "gamma",
                 "transparency", "aspect"}


class PhotoRefused(ValueError):
    """Not a JPEG, PNG or WebP image we can read; the message says so to the citizen."""


def clean_photo(data):
    """(bytes, content_type) of the photo re-encoded without metadata, or PhotoRefused."""
    try:
        with Image.open(BytesIO(data)) as img:
            kind = img.format
            if kind not in FORMATS:
                raise PhotoRefused("Chỉ nhận ảnh JPEG, PNG hoặc WebP / only JPEG, PNG or WebP photos")
            if img.width * img.height > MAX_PIXELS:
                raise PhotoRefused("Ảnh quá lớn (tối đa 50 megapixel) / photo larger than 50 megapixels")
            if kind == "JPEG":
                img.draft("RGB", (MAX_SIDE, MAX_SIDE))  # decode large JPEGs at a smaller scale: less memory
            img.load()
            profile = img.info.get("icc_profile")
            upright = ImageOps.exif_transpose(img)
    except PhotoRefused:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError):
        raise PhotoRefused("Tệp không phải ảnh hoặc đã hỏng / the file is not a readable image")
    upright.thumbnail((MAX_SIDE, MAX_SIDE))
    upright.info = {}  # Pillow writes some of info back (a JPEG's comment): nothing of it goes out
    options = {"icc_profile": profile} if profile else {}
    if kind == "JPEG":
        if upright.mode not in ("RGB", "L"):
            upright = upright.convert("RGB")
        options.update(quality=JPEG_QUALITY)
    elif kind == "WEBP":
        options.update(quality=JPEG_QUALITY)
    out = BytesIO()
    upright.save(out, kind, **options)
    return out.getvalue(), FORMATS[kind]


def is_clean(data, content_type):
    """True when `data` is a readable image of `content_type` carrying no metadata beyond
    how to display it (what clean_photo makes). Reads the headers only: cheap."""
    try:
        with Image.open(BytesIO(data)) as img:
            return (FORMATS.get(img.format) == content_type and not (set(img.info) - HARMLESS_INFO)
                    and not img.getexif())
    except Exception:
        return False
