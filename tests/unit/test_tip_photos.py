"""Tipsters' photos (contracts/photos.py): a JPEG with GPS tags comes out without them (nor
any other EXIF, nor a comment), upright as the phone showed it; what is not an image is refused
whatever its name says."""
from io import BytesIO

import pytest
from PIL import ExifTags, Image

from contracts.photos import PhotoRefused, clean_photo, is_clean


def phone_photo(kind="JPEG", size=(64, 48)):
    """A photo as a phone writes it: GPS position, maker and model, rotated by an Orientation tag."""
    img = Image.new("RGB", size, (200, 30, 30))
    img.paste((20, 20, 220), (0, 0, size[0] // 2, size[1]))
    exif = Image.Exif()
    exif[ExifTags.Base.Make], exif[ExifTags.Base.Model] = "PhoneMaker", "Model X 12"
    exif[ExifTags.Base.Orientation] = 6  # turn 90° to show
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps.update({1: "N", 2: (20.0, 15.0, 7.5), 3: "E", 4: (105.0, 58.0, 30.0)})
    out = BytesIO()
    extra = {"comment": b"Nguyen Van A, 0912345678"} if kind == "JPEG" else {}
    img.save(out, kind, exif=exif, **extra)
    return out.getvalue()


@pytest.mark.parametrize("kind,content_type", [("JPEG", "image/jpeg"), ("PNG", "image/png"),
                                               ("WEBP", "image/webp")])
def test_a_photo_with_gps_tags_comes_out_without_any_metadata(kind, content_type):
    original = phone_photo(kind)
    with Image.open(BytesIO(original)) as img:
        assert img.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the test photo does carry a position
    cleaned, ctype = clean_photo(original)
    assert ctype == content_type
    for secret in (b"PhoneMaker", b"Model X 12", b"Exif", b"0912345678"):
        assert secret not in cleaned
    with Image.open(BytesIO(cleaned)) as img:
        assert not img.getexif() and not img.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert "exif" not in img.info and "comment" not in img.info
        assert img.size == (48, 64)                        # upright: the orientation was applied
        assert img.getpixel((24, 5))[2] > 150              # the blue half is on top now
    assert is_clean(cleaned, content_type) and not is_clean(original, content_type)


def test_what_is_not_an_image_is_refused_whatever_it_claims():
    for data in (b"<?php system($_GET['c']); ?>", b"\xff\xd8\xff" + b"\x00" * 64, b"GIF89a" + b"\x00" * 40, b""):
        with pytest.raises(PhotoRefused):
            clean_photo(data)
    gif = BytesIO()
    Image.new("RGB", (4, 4)).save(gif, "GIF")
    with pytest.raises(PhotoRefused, match="JPEG, PNG"):
        clean_photo(gif.getvalue())
    assert not is_clean(b"not an image", "image/jpeg")


def test_a_huge_photo_is_scaled_down_and_a_bomb_is_refused_before_decoding(monkeypatch):
    big, ctype = clean_photo(phone_photo("JPEG", size=(5000, 300)))
    with Image.open(BytesIO(big)) as img:
        assert max(img.size) <= 4096
    monkeypatch.setattr("contracts.photos.MAX_PIXELS", 1000)
    with pytest.raises(PhotoRefused, match="50 megapixel"):
        clean_photo(phone_photo("PNG", size=(40, 40)))
