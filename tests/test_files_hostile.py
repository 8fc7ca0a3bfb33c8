"""User files: every supported format loads as documented, and hostile or broken input gives a one-line InputError."""

from __future__ import annotations

import io
import os
import pickle
import re
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aeviz import data
from aeviz.data import load_dataset, load_file
from aeviz.errors import InputError
from aeviz.loaders import decode, files, images

PICKLE = "contains Python objects (pickle), which aeviz never loads; save plain numeric arrays with np.save"


def png(arr: np.ndarray, mode: str | None = None) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr, mode).save(buf, format="PNG") if mode else Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def grey(seed: int, size: tuple[int, int] = (8, 8)) -> bytes:
    return png(np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8))


def write(path: Path, payload: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(payload)
    return path


def make_zip(path: Path, members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as zf:
        for member, payload in members.items():
            zf.writestr(zipfile.ZipInfo(member), payload, compress_type=compression)
    return path


def refused(path: Path, match: str, **params) -> str:
    with pytest.raises(InputError, match=match) as err:
        load_dataset(str(path), **params)
    message = str(err.value)
    assert "\n" not in message and len(message) < 400, message
    return message


def png_header(w: int, h: int) -> bytes:
    """A tiny PNG whose header claims w x h greyscale pixels: a decompression bomb, harmless unless decoded."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


# ---------------------------------------------------------------- happy paths: arrays


@pytest.mark.parametrize(
    "arr, shape, note",
    [
        (np.linspace(0, 1, 40, dtype=np.float32).reshape(10, 4), (4,), None),
        (np.zeros((5, 784), np.uint8), (1, 28, 28), "each row of 784 values read as a 28x28 greyscale image"),
        (np.zeros((5, 49), np.uint8), (49,), None),  # a square below 64 values stays a vector
        (np.zeros((5, 6, 7), np.uint8), (1, 6, 7), None),
        (np.zeros((5, 6, 7, 3), np.uint8), (3, 6, 7), None),
        (np.zeros((5, 6, 7, 4), np.uint8), (3, 6, 7), "dropped the alpha channel (RGBA -> RGB)"),
        (np.zeros((5, 3, 6, 7), np.float32), (3, 6, 7), None),
        (np.zeros((5, 1, 6, 7), np.float32), (1, 6, 7), None),
    ],
)
def test_npy_layouts(tmp_path, arr, shape, note):
    np.save(tmp_path / "a.npy", arr)
    ds = load_dataset(str(tmp_path / "a.npy"))
    assert ds.shape == shape and ds.x.shape == (len(arr), *shape) and ds.x.dtype == np.float32
    assert ds.y is None and ds.classes is None and ds.name == "a.npy"
    assert ds.notes == ((note,) if note else ())


@pytest.mark.parametrize(
    "arr, expected, note",
    [
        (np.array([[0, 255], [51, 102]], np.uint8), [[0, 1], [0.2, 0.4]], None),
        (np.array([[0, 65535], [0, 13107]], np.uint16), [[0, 1], [0, 0.2]], None),
        (np.array([[True, False], [False, True]]), [[1, 0], [0, 1]], None),
        (np.array([[-3, 7], [2, 0]], np.float64), [[0, 1], [0.5, 0.3]], "values min-max scaled from [-3, 7] to [0, 1]"),
        (np.array([[-3, 7], [2, 0]], np.int32), [[0, 1], [0.5, 0.3]], "values min-max scaled from [-3, 7] to [0, 1]"),
        (np.array([[0.25, 1.0], [0.0, 0.5]], np.float16), [[0.25, 1], [0, 0.5]], None),
    ],
)
def test_scaling_by_dtype(tmp_path, arr, expected, note):
    np.save(tmp_path / "a.npy", arr)
    ds = load_dataset(str(tmp_path / "a.npy"))
    np.testing.assert_allclose(ds.x, expected, atol=1e-6)
    assert ds.notes == ((note,) if note else ())


def test_npz_with_string_labels(tmp_path):
    np.savez(tmp_path / "d.npz", x=np.random.rand(6, 3), y=np.array(["dog", "cat", "dog", "eel", "cat", "cat"]))
    ds = load_dataset(str(tmp_path / "d.npz"))
    assert ds.classes == ("cat", "dog", "eel") and ds.y.tolist() == [1, 0, 1, 2, 0, 0] and ds.y.dtype == np.int64


def test_npz_maps_arbitrary_int_labels_to_a_range(tmp_path):
    np.savez(tmp_path / "d.npz", x=np.random.rand(4, 3), y=np.array([20, 5, 10, 20]))
    ds = load_dataset(str(tmp_path / "d.npz"))
    assert ds.classes == ("5", "10", "20") and ds.y.tolist() == [2, 0, 1, 2]


def test_npz_without_x_uses_the_first_array(tmp_path):
    np.savez(tmp_path / "d.npz", np.random.rand(4, 3), np.random.rand(2))
    ds = load_dataset(str(tmp_path / "d.npz"))
    assert ds.x.shape == (4, 3) and ds.notes == ("no array named 'x'; using the first array, 'arr_0'",)


def test_csv_plain_numbers(tmp_path):
    write(tmp_path / "t.csv", b"0.1,0.2\n0.3,0.4\n0.5,0.6\n")
    ds = load_dataset(str(tmp_path / "t.csv"))
    assert ds.x.shape == (3, 2) and ds.y is None and ds.notes == ()


def test_csv_with_header_and_named_label_column(tmp_path):
    write(tmp_path / "t.csv", b"a,Label,b\n1,3,5\n2,1,9\n3,3,1\n")
    ds = load_dataset(str(tmp_path / "t.csv"))
    assert ds.x.shape == (3, 2) and ds.classes == ("1", "3") and ds.y.tolist() == [1, 0, 1]
    assert ds.notes == ("labels from the 'Label' column", "values min-max scaled from [1, 9] to [0, 1]")


def test_csv_with_text_last_column_and_semicolons(tmp_path):
    write(tmp_path / "t.csv", "\ufeffx;y2;kind\n0;1;b\n1;0;a\n0.5;0.5;b\n".encode())
    ds = load_dataset(str(tmp_path / "t.csv"))
    assert ds.x.shape == (3, 2) and ds.classes == ("a", "b") and ds.y.tolist() == [1, 0, 1]


def test_csv_without_header_and_text_labels(tmp_path):
    write(tmp_path / "t.csv", b"0,1,cat\n1,0,dog\n")
    ds = load_dataset(str(tmp_path / "t.csv"))
    assert ds.x.tolist() == [[0, 1], [1, 0]] and ds.classes == ("cat", "dog")


# ---------------------------------------------------------------- happy paths: images


def test_image_folder_with_class_subfolders(tmp_path):
    root = tmp_path / "pets"
    write(root / "cat" / "a.png", grey(0))
    write(root / "cat" / "b.png", grey(1))
    write(root / "dog" / "c.png", grey(2))
    write(root / "dog" / ".DS_Store", b"junk")
    write(root / "readme.txt", b"hello")
    ds = load_dataset(str(root))
    assert ds.x.shape == (3, 1, 8, 8) and ds.is_image and ds.classes == ("cat", "dog") and ds.y.tolist() == [0, 0, 1]
    np.testing.assert_allclose(ds.x[0, 0], np.asarray(Image.open(root / "cat" / "a.png")) / 255, atol=1e-6)
    assert ds.notes == ("ignored 1 file(s) that are not PNG/JPEG/GIF/BMP images", "labels from 2 sub-folder names")


def test_image_folder_colour_sizes_and_formats(tmp_path):
    rgb = np.zeros((8, 8, 3), np.uint8)
    rgb[..., 0] = 200
    Image.fromarray(rgb).save(tmp_path / "a.jpg")
    Image.fromarray(np.full((8, 8), 9, np.uint8)).save(tmp_path / "b.bmp")
    Image.fromarray(np.full((16, 16), 9, np.uint8)).save(tmp_path / "c.gif")
    Image.fromarray(np.full((8, 8, 4), 90, np.uint8)).save(tmp_path / "d.png")
    ds = load_dataset(str(tmp_path))
    assert ds.x.shape == (4, 3, 8, 8) and ds.y is None
    assert ds.notes == ("resized 1 of 4 images to 8x8 (the most common size)",)
    assert ds.x[0, 0].mean() > 0.7 and ds.x[0, 2].max() < 0.1  # red stays red


def test_sixteen_bit_greyscale_keeps_its_range(tmp_path):
    Image.fromarray(np.array([[0, 65535], [32768, 65535]], np.uint16)).save(tmp_path / "a.png")
    ds = load_dataset(str(tmp_path))
    np.testing.assert_allclose(ds.x[0, 0], [[0, 1], [0.5, 1]], atol=0.01)


@pytest.mark.parametrize("size, shape", [(4, (1, 4, 4)), ([4, 6], (1, 4, 6))])
def test_size_param_resizes_every_image(tmp_path, size, shape):
    write(tmp_path / "a.png", grey(0))
    ds = load_dataset(str(tmp_path), size=size)
    assert ds.shape == shape and ds.params["size"] == list(shape[1:])
    np.testing.assert_array_equal(load_dataset(ds.source, **ds.params).x, ds.x)


def test_zip_of_images_with_a_top_folder_and_mac_junk(tmp_path):
    members = {"data/": b"", "data/0/a.png": grey(0), "data/1/b.png": grey(1), "data/1/c.png": grey(2),
               "__MACOSX/data/0/._a.png": b"not an image"}
    ds = load_dataset(str(make_zip(tmp_path / "d.zip", members, zipfile.ZIP_DEFLATED)))
    assert ds.x.shape == (3, 1, 8, 8) and ds.classes == ("0", "1") and ds.y.tolist() == [0, 1, 1]


def test_upload_keeps_its_display_name(tmp_path):
    np.save(tmp_path / "tmp8x2k.npy", np.random.rand(5, 3))
    ds = load_file(tmp_path / "tmp8x2k.npy", name="my data.npy")
    assert ds.name == "my data.npy" and ds.source == str(tmp_path / "tmp8x2k.npy")
    np.save(tmp_path / "tmpq1.npy", np.array(["a", "b"]))
    with pytest.raises(InputError, match="^my upload.npy holds text"):
        load_file(tmp_path / "tmpq1.npy", name="my upload.npy")


# ---------------------------------------------------------------- hostile: images


def test_fake_image_is_refused(tmp_path):
    write(tmp_path / "imgs" / "a.png", grey(0))
    write(tmp_path / "imgs" / "b.png", b"I am text, not a PNG")
    refused(tmp_path / "imgs", r"imgs: b.png is not a valid image")


def test_truncated_image_is_refused(tmp_path):
    full = png(np.random.default_rng(0).integers(0, 256, (64, 64), dtype=np.uint8))
    write(tmp_path / "imgs" / "a.png", full[: len(full) // 2])
    refused(tmp_path / "imgs", r"a.png is a damaged image")


@pytest.mark.parametrize("w, h", [(8000, 8000), (100_000, 100_000)])
def test_decompression_bomb_is_refused_before_decoding(tmp_path, w, h):
    make_zip(tmp_path / "bomb.zip", {"a.png": png_header(w, h)})
    refused(tmp_path / "bomb.zip", r"bomb.zip: a.png is a possible decompression bomb .*limit is 50 M pixels per image")


def test_pil_bomb_warning_becomes_an_error(tmp_path, monkeypatch):
    monkeypatch.setattr(images, "MAX_IMAGE_PIXELS", 10**12)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 40x40 = 1600 px: PIL warns (it errors past 2x)
    write(tmp_path / "imgs" / "a.png", grey(0, (40, 40)))
    refused(tmp_path / "imgs", r"a.png is a possible decompression bomb")


def test_total_decoded_size_is_capped(tmp_path, monkeypatch):
    monkeypatch.setattr(images, "MAX_TOTAL_BYTES", 5000)
    for i in range(3):
        write(tmp_path / "imgs" / f"{i}.png", grey(i, (16, 16)))
    refused(tmp_path / "imgs", r"would decode to .* over the limit of")


def test_zip_bomb_ratio_is_refused_before_inflating(tmp_path):
    make_zip(tmp_path / "z.zip", {"a.png": bytes(5 * 2**20)}, zipfile.ZIP_DEFLATED)
    refused(tmp_path / "z.zip", r"z.zip: a.png inflates [\d,]+x \(limit 100x\), a likely zip bomb")


def test_zip_declared_size_is_capped(tmp_path, monkeypatch):
    monkeypatch.setattr(images, "MAX_TOTAL_BYTES", 1000)
    make_zip(tmp_path / "z.zip", {"a.png": grey(0, (32, 32)), "b.png": grey(1, (32, 32))})
    refused(tmp_path / "z.zip", r"z.zip would unpack to [\d.]+ KB, over the limit of 1,000 bytes")


@pytest.mark.parametrize("member", ["../x.png", "/abs/x.png", "a/../../x.png", "C:/x.png", "..\\x.png"])
def test_path_traversal_members_refuse_the_zip(tmp_path, member):
    before = set(tmp_path.parent.iterdir())
    make_zip(tmp_path / "z.zip", {"ok.png": grey(0), member: grey(1)})
    refused(tmp_path / "z.zip", r"z.zip contains an unsafe member name")
    assert set(tmp_path.parent.iterdir()) == before and not Path("/abs/x.png").exists()


def test_encrypted_zip_member_is_refused(tmp_path):
    raw = bytearray(make_zip(tmp_path / "z.zip", {"a.png": grey(0)}).read_bytes())
    raw[raw.index(b"PK\x01\x02") + 8] |= 0x1  # set the "encrypted" flag in the central directory
    write(tmp_path / "z.zip", bytes(raw))
    refused(tmp_path / "z.zip", r"z.zip: a.png is encrypted")


def test_symlinks_in_a_folder_are_skipped(tmp_path):
    secret = write(tmp_path / "secret.png", grey(9))
    write(tmp_path / "imgs" / "a.png", grey(0))
    os.symlink(secret, tmp_path / "imgs" / "b.png")
    os.symlink(tmp_path, tmp_path / "imgs" / "loop")
    ds = load_dataset(str(tmp_path / "imgs"))
    assert len(ds.x) == 1
    assert ds.notes == ("skipped 2 symbolic link(s); aeviz reads only regular files inside the folder",)


def test_symlink_members_in_a_zip_are_skipped(tmp_path):
    with zipfile.ZipFile(tmp_path / "z.zip", "w") as zf:
        zf.writestr("a.png", grey(0))
        link = zipfile.ZipInfo("b.png")
        link.external_attr = (0o120777 << 16)
        zf.writestr(link, "/etc/passwd")
    ds = load_dataset(str(tmp_path / "z.zip"))
    assert len(ds.x) == 1 and ds.notes == ("skipped 1 symbolic link(s) in the zip",)


def test_a_symlink_path_is_refused(tmp_path):
    np.save(tmp_path / "a.npy", np.random.rand(3, 2))
    os.symlink(tmp_path / "a.npy", tmp_path / "link.npy")
    refused(tmp_path / "link.npy", r"link.npy is a symbolic link")


@pytest.mark.parametrize("kind", ["folder", "zip"])
def test_no_images(tmp_path, kind):
    write(tmp_path / "d" / "notes.txt", b"hi")
    target = tmp_path / "d" if kind == "folder" else make_zip(tmp_path / "d.zip", {"notes.txt": b"hi"})
    refused(target, r"contains no images \(PNG/JPEG/GIF/BMP\)")


def test_not_a_zip(tmp_path):
    refused(write(tmp_path / "d.zip", b"plain text"), r"d.zip is not a valid zip file")


# ---------------------------------------------------------------- hostile: arrays and tables


class Evil:
    def __init__(self, target: Path):
        self.target = target

    def __reduce__(self):
        return (os.mkdir, (str(self.target),))  # would run on unpickling


def test_pickled_npy_never_runs_code(tmp_path):
    np.save(tmp_path / "p.npy", np.array([Evil(tmp_path / "pwned")], dtype=object), allow_pickle=True)
    assert refused(tmp_path / "p.npy", re.escape("p.npy " + PICKLE)).endswith("allow_pickle=False).")
    assert not (tmp_path / "pwned").exists()


def test_bare_pickle_renamed_npy(tmp_path):
    refused(write(tmp_path / "p.npy", pickle.dumps(Evil(tmp_path / "pwned"))), re.escape(PICKLE))
    assert not (tmp_path / "pwned").exists()


def test_pickled_array_in_npz(tmp_path):
    np.savez(tmp_path / "p.npz", x=np.array([{"a": 1}], dtype=object))
    refused(tmp_path / "p.npz", re.escape(PICKLE))


@pytest.mark.parametrize(
    "arr, match",
    [
        (np.array([["a", "b"]]), r"holds text \(dtype <U1\), not numbers"),
        (np.ones((2, 2), np.complex64), r"holds complex numbers"),
        (np.zeros(3, dtype=[("a", "f4"), ("b", "i4")]), r"holds structured records"),
        (np.zeros((0, 5), np.float32), r"has no values"),
        (np.array([[0.5, np.nan], [0.1, 0.2]]), r"contains 1 NaN or infinite values \(first in row 0\)"),
        (np.array([[0.5, 0.1], [np.inf, 0.2]]), r"contains 1 NaN or infinite values \(first in row 1\)"),
        (np.zeros(5), r"has shape \(5,\); aeviz reads \(N, D\) vectors"),
        (np.zeros((2, 3, 4, 5, 6)), r"has shape \(2, 3, 4, 5, 6\)"),
        (np.zeros((2, 5, 6, 7)), r"a 4-D array must be"),
    ],
)
def test_bad_arrays(tmp_path, arr, match):
    np.save(tmp_path / "a.npy", arr)
    refused(tmp_path / "a.npy", match)


def test_truncated_npy(tmp_path):
    np.save(tmp_path / "a.npy", np.random.rand(100, 10))
    raw = (tmp_path / "a.npy").read_bytes()
    refused(write(tmp_path / "a.npy", raw[: len(raw) // 2]), r"a.npy is truncated")


def test_npy_with_a_bad_header(tmp_path):
    refused(write(tmp_path / "a.npy", b"\x93NUMPX garbage"), r"a.npy is not a .npy file")


@pytest.mark.parametrize(
    "y, match",
    [
        (np.arange(4), r"x has 5 rows but y has 4 labels"),
        (np.array([0.5, 1, 2, 3, 4]), r"fractional or NaN"),
        (np.zeros((5, 2)), r"shape \(N,\); got shape \(5, 2\)"),
    ],
)
def test_bad_labels(tmp_path, y, match):
    np.savez(tmp_path / "d.npz", x=np.random.rand(5, 3), y=y)
    refused(tmp_path / "d.npz", match)


def test_too_many_classes(tmp_path):
    np.savez(tmp_path / "d.npz", x=np.random.rand(1500, 2), y=np.arange(1500))
    refused(tmp_path / "d.npz", r"y has 1500 distinct values; aeviz needs class labels \(at most 1000")


def test_npz_that_is_not_a_zip(tmp_path):
    refused(write(tmp_path / "d.npz", b"nope"), r"d.npz is not a valid .npz file")


@pytest.mark.parametrize(
    "text, match",
    [
        (b"1,2,3\n4,5\n", r"t.csv is ragged: row 2 has 2 column\(s\) but row 1 has 3"),
        (b"a,b,c\n1,x,3\n4,5,6\n", r"row 2, column 'b' is not a number \('x'\)"),
        (b"1,,3\n4,5,6\n", r"row 1, column 2 is empty"),
        (b"a,b\n", r"t.csv has a header but zero data rows"),
        (b"a,b\n0.5,nan\n", r"NaN or infinite"),
        (b"label\n1\n2\n", r"only a label column"),
        (b"\n\n  \n", r"t.csv has zero rows"),
        ("a,b\n1,2\n".encode("utf-16"), r"t.csv is not UTF-8 text"),
        (b"1,2\n3,\x00\n", r"t.csv contains NUL bytes"),
        (b"a,b,label\n1,2,cat\n3,4,\n", r"row 3 has an empty label in the 'label' column"),
    ],
)
def test_bad_csv(tmp_path, text, match):
    refused(write(tmp_path / "t.csv", text), match)


# ---------------------------------------------------------------- hostile: paths and files


@pytest.mark.parametrize("suffix", [".npy", ".npz", ".csv", ".zip"])
def test_empty_file(tmp_path, suffix):
    refused(write(tmp_path / f"e{suffix}", b""), rf"e\{suffix} is empty \(0 bytes\)")


@pytest.mark.parametrize(
    "name, match", [("a.txt", r"unsupported file type '.txt'"), ("a.png", r"one image is not a dataset")]
)
def test_unsupported_extension(tmp_path, name, match):
    refused(write(tmp_path / name, b"data"), match)


def test_missing_path(tmp_path):
    with pytest.raises(InputError, match=r"gone.npy: no such file or folder; check the path"):
        load_file(tmp_path / "gone.npy")


def test_file_too_large(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "MAX_FILE_BYTES", 100)
    np.save(tmp_path / "big.npy", np.random.rand(50, 2))
    refused(tmp_path / "big.npy", r"big.npy is 928 bytes, over the 100 bytes limit")


def test_special_file_is_refused(tmp_path):
    os.mkfifo(tmp_path / "f.npy")  # reading a FIFO would block forever
    refused(tmp_path / "f.npy", r"f.npy is not a regular file or folder")


@pytest.mark.parametrize(
    "params, match",
    [({"limit": 5}, r"Unknown parameter 'limit' for a.npy. Choose one of \['size'\]"),
     ({"size": 4}, r"the 'size' parameter applies only to image folders"),
     ({"size": 0.5}, r"The 'size' parameter of a.npy must be an int or an \[height, width\] pair")],
)
def test_bad_file_params(tmp_path, params, match):
    np.save(tmp_path / "a.npy", np.random.rand(3, 2))
    refused(tmp_path / "a.npy", match, **params)


def test_unexpected_parser_failure_is_still_an_input_error(tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise struct.error("unpack requires a buffer of 4 bytes")

    monkeypatch.setattr(decode, "decode_images", boom)
    write(tmp_path / "imgs" / "a.png", grey(0))
    refused(tmp_path / "imgs", r"^Could not read imgs: unpack requires a buffer of 4 bytes; check that the file")


def test_loaders_never_write(tmp_path):
    write(tmp_path / "imgs" / "a" / "x.png", grey(0))
    make_zip(tmp_path / "z.zip", {"a/x.png": grey(0)})
    before = sorted(tmp_path.rglob("*"))
    load_dataset(str(tmp_path / "imgs"))
    load_dataset(str(tmp_path / "z.zip"))
    data.clear_cache()
    assert sorted(tmp_path.rglob("*")) == before
