"""devices.safe_read: special files, size, UTF-8, depth and number checks, .npz caps."""

from __future__ import annotations

import io
import os
import time
import zipfile

import numpy as np
import pytest

from devices import safe_read
from devices.errors import DeviceError
from devices.safe_read import FileRefused


def _refused(fn, *args, **kw) -> str:
    with pytest.raises(FileRefused) as info:
        fn(*args, **kw)
    assert isinstance(info.value, DeviceError)
    return str(info.value)


def test_plain_toml_comes_back_as_data(tmp_path):
    f = tmp_path / "a.toml"
    f.write_text('x = 1\n[t]\ny = [1.5, "s"]\n', encoding="utf-8")
    assert safe_read.read_toml(f) == {"x": 1, "t": {"y": [1.5, "s"]}}


def test_dev_zero_directory_and_fifo_are_refused_without_blocking(tmp_path):
    assert "is a device, expected a regular file" in _refused(safe_read.read_text, "/dev/zero")
    assert "is a directory" in _refused(safe_read.read_text, tmp_path)
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    t0 = time.monotonic()
    assert "FIFO" in _refused(safe_read.read_toml, fifo)
    assert "FIFO" in _refused(safe_read.regular_file, fifo)
    assert time.monotonic() - t0 < 5
    assert "no such file" in _refused(safe_read.read_text, tmp_path / "missing.toml")


def test_size_limit(tmp_path):
    f = tmp_path / "big.toml"
    f.write_bytes(b"a = 1\n" * 1000)
    msg = _refused(safe_read.read_text, f, max_bytes=100)
    assert msg.startswith(str(f)) and "more than the 100 B allowed" in msg


def test_latin1_file_names_byte_offset_and_line(tmp_path):
    f = tmp_path / "p.toml"
    f.write_bytes('label = "ok"\nunit = "µs"\n'.encode("latin-1"))
    msg = _refused(safe_read.read_toml, f)
    assert msg == f'{f}: not UTF-8 text: byte 0xb5 at offset 21 (line 2); save the file as UTF-8'


@pytest.mark.parametrize("text", ["a = " + "[" * 5000 + "]" * 5000,
                                  "a = " + "{b = " * 500 + "1" + "}" * 500,
                                  ".".join(["k"] * 500) + " = 1"])
def test_deep_nesting_is_one_refusal(tmp_path, text):
    assert "nested more than 32 levels deep" in _refused(safe_read.parse_toml, text, file="f.toml")


def test_brackets_inside_strings_and_comments_do_not_count():
    text = 'a = "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["\nb = \'{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{\'  # [[[[\n' \
           'c = """\n[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n"""\n[[t]]\nx = [[1], [2]]\n'
    assert safe_read.bracket_depth(text) == 2
    assert safe_read.parse_toml(text, file="f")["t"][0]["x"] == [[1], [2]]


@pytest.mark.parametrize("value, expect", [
    ("-inf", "parameters.gain.default: expected a finite number, got -inf"),
    ("nan", "parameters.gain.default: expected a finite number, got nan"),
    ("1" + "0" * 400 + ".0", "parameters.gain.default: expected a finite number, got inf"),
    ("9223372036854775808", "parameters.gain.default: integer out of range"),
    ("1" * 5000, "not valid TOML: Exceeds the limit"),
])
def test_numbers_must_be_finite_and_64_bit(value, expect):
    text = f"[parameters.gain]\ndefault = {value}\n"
    assert expect in _refused(safe_read.parse_toml, text, file="p.toml")


def test_key_path_names_arrays_and_quoted_keys():
    text = '[devices."1176 #2"]\nvalues = [1.0, nan]\n'
    assert _refused(safe_read.parse_toml, text, file="s.toml") == \
        's.toml: devices."1176 #2".values[1]: expected a finite number, got nan'


def test_non_utf8_file_name_prints(tmp_path):
    raw = os.fsencode(tmp_path) + b"/caf\xe9.toml"
    with open(raw, "wb") as fh:
        fh.write(b"x = nan\n")
    msg = _refused(safe_read.read_toml, raw.decode("utf-8", "surrogateescape"))
    assert "caf\\xe9.toml: x: expected a finite number" in msg
    msg.encode("utf-8")  # printable


def _npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def test_npz_reads_arrays_and_refuses_nan_pickles_and_bombs(tmp_path):
    good = tmp_path / "good.npz"
    good.write_bytes(_npz(a=np.arange(4.0)))
    assert list(safe_read.read_npz(good)["a"]) == [0.0, 1.0, 2.0, 3.0]
    bad = tmp_path / "nan.npz"
    bad.write_bytes(_npz(a=np.array([1.0, np.nan])))
    assert "a: expected finite numbers" in _refused(safe_read.read_npz, bad)
    pickled = tmp_path / "obj.npz"
    buf = io.BytesIO()
    np.savez(buf, a=np.array([{"x": 1}], dtype=object))
    pickled.write_bytes(buf.getvalue())
    assert "not a readable .npz file" in _refused(safe_read.read_npz, pickled)
    bomb = tmp_path / "bomb.npz"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.npy", b"\0" * (4 * 1024 * 1024))
    assert "unpacks to 4.0 MiB" in _refused(safe_read.read_npz, bomb, max_bytes=1024 * 1024)
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"PK\x03\x04garbage")
    assert "not a readable .npz file" in _refused(safe_read.read_npz, junk)

