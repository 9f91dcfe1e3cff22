"""test_abi.py — the ctypes mirror of ortc.h (tools/python/ortc/_capi.py)
against the C compiler: every struct's size and every field's offset and
size as capi_check (built from ortc.h) prints them. A field added to ortc.h
and not to _capi.py, or reordered, fails here instead of corrupting memory.
"""
import json
import subprocess

from ortc import _capi as C


def test_struct_layouts_match_the_header(capi_check):
    r = subprocess.run([capi_check, "layout"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    want = json.loads(r.stdout)
    assert set(want) == set(C.STRUCTS), (sorted(want), sorted(C.STRUCTS))
    for name, info in want.items():
        cls = C.STRUCTS[name]
        assert [f[0] for f in cls._fields_] == list(info["fields"]), name
        for field, (offset, size) in info["fields"].items():
            got = getattr(cls, field)
            assert (got.offset, got.size) == (offset, size), \
                f"{name}.{field}: ctypes offset/size {got.offset}/{got.size}, C {offset}/{size}"
        assert ctypes_sizeof(cls) == info["sizeof"], name


def ctypes_sizeof(cls):
    import ctypes
    return ctypes.sizeof(cls)
