#!/usr/bin/python3
"""Writes tests/fixtures/io/reference.safetensors and its expected values.

An implementation of the safetensors format independent of the C++ one (the
`safetensors` package is not available here): raw bytes laid out by hand with
numpy, so the C++ reader is checked against a second reading of the spec, not
against its own writer. Run from anywhere; it overwrites both fixture files.

    /usr/bin/python3 tools/make_safetensors_fixture.py
"""
import json
import pathlib
import struct

import numpy as np

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "io"


def bf16_bytes(values):
    """bfloat16 = the top half of a float32; chosen values are exact, so no rounding."""
    bits = np.asarray(values, dtype="<f4").view("<u4")
    assert np.all(bits & 0xFFFF == 0), "value not exact in bfloat16"
    return (bits >> 16).astype("<u2").tobytes()


def f8_e5m2_bytes(values):
    """float8 e5m2 = the top byte of a float16; chosen values are exact."""
    bits = np.asarray(values, dtype="<f2").view("<u2")
    assert np.all(bits & 0xFF == 0), "value not exact in f8_e5m2"
    return (bits >> 8).astype("u1").tobytes()


# name, safetensors dtype, shape, values (row-major), bytes, dtype the C++ reader returns
def tensor(name, dtype, shape, values, raw, torch_dtype):
    return {"name": name, "dtype": dtype, "shape": list(shape), "values": list(values),
            "raw": raw, "torch": torch_dtype}


f32 = [0.5, -1.25, 3.0, 1e-3, -7.75, 1024.0]
f64 = [3.141592653589793]
f16 = [0.5, -2.0, 65504.0, 6.103515625e-05]
bf16 = [1.5, -2.0, 0.15625, 65536.0]
i64 = [-9007199254740993, 9223372036854775807]
i32 = [-2147483648, 0, 7, 2147483647]
i16 = [-32768, 1, 32767]
i8 = [-128, -1, 0, 127]
u8 = [0, 128, 255]
bools = [True, False, True]
u16 = [0, 40000, 65535]
u32 = [4294967295, 1]
e5m2 = [1.0, -0.5, 57344.0, 1.52587890625e-05]

TENSORS = [
    tensor("embed.weight", "F32", (2, 3), f32, np.array(f32, "<f4").tobytes(), "float32"),
    tensor("scale", "F64", (), f64, np.array(f64, "<f8").tobytes(), "float64"),
    tensor("half", "F16", (4,), f16, np.array(f16, "<f2").tobytes(), "float16"),
    tensor("brain", "BF16", (2, 2), bf16, bf16_bytes(bf16), "bfloat16"),
    tensor("ids", "I64", (2,), i64, np.array(i64, "<i8").tobytes(), "int64"),
    tensor("ints", "I32", (2, 2), i32, np.array(i32, "<i4").tobytes(), "int32"),
    tensor("shorts", "I16", (3,), i16, np.array(i16, "<i2").tobytes(), "int16"),
    tensor("bytes", "I8", (4,), i8, np.array(i8, "i1").tobytes(), "int8"),
    tensor("ubytes", "U8", (3,), u8, np.array(u8, "u1").tobytes(), "uint8"),
    tensor("mask", "BOOL", (3,), bools, np.array(bools, "?").tobytes(), "bool"),
    tensor("empty", "F32", (2, 0), [], b"", "float32"),
    tensor("ushorts", "U16", (3,), u16, np.array(u16, "<u2").tobytes(), "int32"),
    tensor("uints", "U32", (2,), u32, np.array(u32, "<u4").tobytes(), "int64"),
    tensor("f8", "F8_E5M2", (4,), e5m2, f8_e5m2_bytes(e5m2), "float32"),
]
METADATA = {"format": "pt", "producer": "tools/make_safetensors_fixture.py"}


def main():
    header = {"__metadata__": METADATA}
    data = b""
    for t in TENSORS:
        header[t["name"]] = {"dtype": t["dtype"], "shape": t["shape"],
                             "data_offsets": [len(data), len(data) + len(t["raw"])]}
        data += t["raw"]
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "reference.safetensors").write_bytes(struct.pack("<Q", len(text)) + text + data)
    expected = {"metadata": METADATA,
                "tensors": [{k: t[k] for k in ("name", "dtype", "shape", "values", "torch")}
                            for t in TENSORS]}
    lines = [json.dumps(t, separators=(",", ":")) for t in expected["tensors"]]
    (OUT / "reference.expected.json").write_text(
        '{"metadata":' + json.dumps(METADATA) + ',\n "tensors":[\n  ' + ",\n  ".join(lines) + "]}\n")


if __name__ == "__main__":
    main()
