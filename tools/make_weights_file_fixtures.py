#!/usr/bin/python3
"""Writes tests/fixtures/weights_files/: small .npz, .npy and .pt files for
tests/test_weights_files.cpp (core/io/npy.h, core/io/torch_pt.h).

Every value is a formula over arange, so the test recomputes what it expects
instead of reading a second file. numpy writes the .npz files and PyTorch's
own torch.save the .pt files; the hostile .pt files are hand-written pickles
zipped the way torch.save lays them out (archive/data.pkl). Before writing a
hostile file whose payload would run a command, the script unpickles it with
Python's pickle in a scratch folder and checks that the command did run: the
test's "nothing ran" assertion is only worth something if the payload works.
Needs numpy and PyTorch (1.13 here); run from anywhere:

    /usr/bin/python3 tools/make_weights_file_fixtures.py
"""
import os
import pathlib
import pickle
import struct
import tempfile
import zipfile

import numpy as np
import torch

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "weights_files"


def arrays():
    """The arrays of stored.npz and deflated.npz; test_weights_files.cpp has the same formulas."""
    return {
        "f32": np.arange(12, dtype="<f4").reshape(3, 4) / 4,
        "f16": np.arange(6, dtype="<f2") - 2.5,
        "f64": np.arange(5, dtype="<f8") / 8,
        "i64": (np.arange(6, dtype="<i8") - 3) * 1_000_000_000_000,
        "i8": np.arange(-4, 4, dtype="i1"),
        "u8": np.arange(250, 256, dtype="u1"),
        "u16": np.arange(3, dtype="<u2") * 30000,
        "bool": np.arange(7) % 3 == 0,
        "fortran": np.asfortranarray(np.arange(6, dtype="<f4").reshape(2, 3)),
        "big_i4": np.arange(4, dtype=">i4") * -7,
        "big_f8": (np.arange(3, dtype=">f8") + 1) / 4,
        "scalar": np.array(3.5, dtype="<f4"),
        "empty": np.zeros((0, 3), dtype="<f4"),
    }


def write_npz():
    a = arrays()
    assert a["fortran"].flags.f_contiguous and not a["fortran"].flags.c_contiguous
    np.savez(OUT / "stored.npz", **a)
    np.savez_compressed(OUT / "deflated.npz", **a)
    # np.savez pickles object arrays (allow_pickle defaults to True when writing).
    np.savez(OUT / "object.npz", ok=np.arange(3, dtype="<f4"), objects=np.array([{"x": 1}, None], dtype=object))
    for version in [(1, 0), (2, 0), (3, 0)]:
        with open(OUT / f"v{version[0]}.npy", "wb") as f:
            np.lib.format.write_array(f, np.arange(6, dtype="<f4").reshape(2, 3), version=version)


def write_pt():
    lin = torch.nn.Linear(4, 3)
    with torch.no_grad():
        lin.weight.copy_(torch.arange(12, dtype=torch.float32).reshape(3, 4) / 8)
        lin.bias.copy_(torch.arange(3, dtype=torch.float32) - 1)
    state = lin.state_dict()
    assert hasattr(state, "_metadata")
    torch.save(state, OUT / "module_state.pt")

    torch.save({"W_enc": torch.arange(8, dtype=torch.float32).reshape(2, 4),
                "cfg": {"d_in": 4, "name": "sae", "lr": 0.001, "layers": [1, 2, 3], "shape": (4, 8),
                        "flag": True, "off": False, "none": None, "neg": -5, "big": 2 ** 40,
                        "nested": {"deeper": [(1, "a"), {"k": 2.5}]}},
                "step": 1000}, OUT / "nested.pt")

    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    view = base[1:, 2:5].t()  # offset 8, size (3, 3), stride (1, 6)
    assert view.storage_offset() == 8 and not view.is_contiguous()
    flat = torch.arange(10, dtype=torch.float32)
    torch.save({"view": view, "a": flat[2:6], "b": flat.view(2, 5)}, OUT / "views.pt")

    torch.save({"bf16": torch.tensor([1.5, -2.0, 0.25], dtype=torch.bfloat16),
                "f16": torch.tensor([0.5, -1.0, 65504.0], dtype=torch.float16),
                "i8": torch.arange(-2, 2, dtype=torch.int8),
                "i32": torch.arange(3, dtype=torch.int32) * 100000,
                "bool": torch.tensor([True, False, True]),
                "empty": torch.zeros(0, 3)}, OUT / "dtypes.pt")

    torch.save({"p": torch.nn.Parameter(torch.arange(4, dtype=torch.float32))}, OUT / "parameter.pt")
    torch.save({"w": torch.arange(4, dtype=torch.float32)}, OUT / "legacy.pt", _use_new_zipfile_serialization=False)


def torch_like_zip(path, pickle_bytes):
    """A zip laid out like torch.save's: archive/data.pkl and archive/version."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", pickle_bytes)
        z.writestr("archive/version", "3\n")


def u32(n):
    return struct.pack("<I", n)


def must_run(pickle_bytes, marker):
    """The payload really creates `marker` when Python's pickle loads it."""
    with tempfile.TemporaryDirectory() as tmp:
        cwd = os.getcwd()
        os.chdir(tmp)
        try:
            pickle.loads(pickle_bytes)
            assert os.path.exists(marker), f"payload for {marker} did not run"
        finally:
            os.chdir(cwd)


def write_hostile():
    cmd = b"touch saescope_pwned_os_system"
    os_system = b"\x80\x02cos\nsystem\nX" + u32(len(cmd)) + cmd + b"\x85R."
    must_run(os_system, "saescope_pwned_os_system")
    torch_like_zip(OUT / "hostile_os_system.pt", os_system)

    expr = b"__import__('os').system('touch saescope_pwned_eval')"
    builtins_eval = b"\x80\x04\x95" + struct.pack("<Q", 0) + b"\x8c\x08builtins\x8c\x04eval\x93\x8c" + \
        bytes([len(expr)]) + expr + b"\x85R."
    must_run(builtins_eval, "saescope_pwned_eval")
    torch_like_zip(OUT / "hostile_builtins_eval.pt", builtins_eval)

    # OrderedDict([('k', 'v')]): harmless in Python, but a weights file builds it empty.
    torch_like_zip(OUT / "hostile_ordereddict_arg.pt",
                   b"\x80\x02ccollections\nOrderedDict\n](X\x01\x00\x00\x00kX\x01\x00\x00\x00v\x86e\x85R.")
    # BUILD onto a class: sets attributes of torch.FloatStorage in Python.
    torch_like_zip(OUT / "hostile_build_class.pt",
                   b"\x80\x02ctorch\nFloatStorage\n}X\x07\x00\x00\x00__new__Nsb.")
    torch_like_zip(OUT / "hostile_unknown_opcode.pt", b"\x80\x02}\xff.")
    torch_like_zip(OUT / "hostile_truncated.pt", b"\x80\x02}q\x00(X\x05\x00\x00\x00ab")
    torch_like_zip(OUT / "hostile_memo.pt", b"\x80\x02h\x07.")
    torch_like_zip(OUT / "hostile_deep.pt", b"\x80\x02" + b"]" * 2000 + b"a" * 1999 + b".")
    torch_like_zip(OUT / "hostile_cycle.pt", b"\x80\x02]q\x00h\x00a.")
    # A tensor view reaching past its 4-element storage.
    past = (b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nFloatStorage\n"
            b"X\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x04tQK\x02K\x03\x85K\x01\x85\x89ccollections\n"
            b"OrderedDict\n)RtR.")
    with zipfile.ZipFile(OUT / "hostile_view.pt", "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", past)
        z.writestr("archive/data/0", np.arange(4, dtype="<f4").tobytes())
        z.writestr("archive/version", "3\n")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    write_npz()
    write_pt()
    write_hostile()
    for p in sorted(OUT.iterdir()):
        print(f"{p.name}: {p.stat().st_size} bytes")


if __name__ == "__main__":
    main()
