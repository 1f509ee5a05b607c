"""The Python module `moetune` on the tiny reference checkpoints (tests/data), against
transformers' outputs (tests/data/reference), and its errors on bad arrays.

Run by ctest (test python_module) with PYTHONPATH set to the build's python/ directory.
"""
import json
import os
import pathlib
import struct

import pytest

np = pytest.importorskip("numpy", reason="numpy is not installed (python3-numpy)")
moetune = pytest.importorskip("moetune", reason="the moetune module is not on PYTHONPATH")

DATA = pathlib.Path(os.environ.get("MOETUNE_TEST_DATA", pathlib.Path(__file__).parents[1] / "data"))
CASES = json.loads((DATA / "reference/cases.json").read_text())


def read_hidden_states(path):
    """Tensor hidden_states of a safetensors file (F32, as tools/make_reference.py wrote it)."""
    raw = pathlib.Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    info = json.loads(raw[8:8 + n])["hidden_states"]
    assert info["dtype"] == "F32", f"{path}: hidden_states is {info['dtype']}, expected F32"
    begin, end = info["data_offsets"]
    return np.frombuffer(raw[8 + n + begin:8 + n + end], dtype="<f4").reshape(info["shape"])


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
@pytest.mark.parametrize("layout", ["oi", "io"])
def test_reproduces_transformers(case, layout):
    layer = moetune.MoeLayer.from_pretrained(str(DATA / case["model"]), case["layer"],
                                             threads=2, layout=layout)
    x = read_hidden_states(DATA / case["input"])
    want = read_hidden_states(DATA / case["expected"])
    y = layer(x)
    assert y.dtype == np.float32 and y.shape == want.shape
    # The bound of tests/test_reference.cpp: same weights in f32, only summation order differs.
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-5)
    assert np.array_equal(layer.forward(x), y)


def test_bf16_and_int8_weights_stay_close():
    case = next(c for c in CASES if c["tokens"] > 1)
    x = read_hidden_states(DATA / case["input"])
    want = read_hidden_states(DATA / case["expected"])
    for dtype, tolerance in (("bf16", 0.0), ("int8", 0.05)):
        layer = moetune.MoeLayer.from_pretrained(str(DATA / case["model"]), case["layer"], dtype=dtype)
        err = np.abs(layer(x) - want).max()
        # The checkpoints are bf16, so bf16 weights are the same values; int8 rounds them.
        assert err <= 1e-5 + tolerance, f"{dtype}: max error {err}"
        if dtype == "int8":
            assert err > 0


def test_describe_threads_and_shape():
    layer = moetune.MoeLayer.from_pretrained(str(DATA / "qwen2_moe_tiny"), 0, threads=1)
    assert layer.threads == 1
    layer.threads = 2
    assert layer.threads == 2
    assert layer.hidden == 36
    assert layer.shape["shared_intermediate"] == 52
    d = layer.describe(5)
    assert "strategy layer_f32__" in d and "gemv gemv_f32_oi__" in d and "selection: " in d
    assert moetune.__version__.count(".") == 2


@pytest.fixture(scope="module")
def layer():
    return moetune.MoeLayer.from_pretrained(str(DATA / "qwen3_moe_tiny"), 1)


@pytest.mark.parametrize("make, error, words", [
    (lambda: np.zeros((2, 44), np.float64), TypeError, "float32"),
    (lambda: np.zeros((2, 44), np.float16), TypeError, "float32"),
    (lambda: np.zeros((2, 44), np.int32), TypeError, "float32"),
    (lambda: np.zeros((44, 4), np.float32)[:, :2].T.copy(order="F"), TypeError, "C-contiguous"),
    (lambda: np.zeros((4, 88), np.float32)[:, ::2], TypeError, "C-contiguous"),
    (lambda: np.zeros((2, 45), np.float32), ValueError, "expected [tokens, 44]"),
    (lambda: np.zeros(44, np.float32), ValueError, "expected 2"),
    (lambda: np.zeros((1, 2, 44), np.float32), ValueError, "expected 2"),
    (lambda: np.zeros((0, 44), np.float32), ValueError, "no tokens"),
])
def test_bad_arrays(layer, make, error, words):
    with pytest.raises(error, match=None) as info:
        layer(make())
    assert words in str(info.value)


def test_bad_arguments():
    with pytest.raises(ValueError, match="dtype='fp8'"):
        moetune.MoeLayer.from_pretrained(str(DATA / "qwen3_moe_tiny"), 1, dtype="fp8")
    with pytest.raises(ValueError, match="layout='xy'"):
        moetune.MoeLayer.from_pretrained(str(DATA / "qwen3_moe_tiny"), 1, layout="xy")
    with pytest.raises(moetune.Error, match="layer 5 does not exist"):
        moetune.MoeLayer.from_pretrained(str(DATA / "qwen3_moe_tiny"), 5)
    with pytest.raises(ValueError, match="no_such_dir"):
        moetune.MoeLayer.from_pretrained(str(DATA / "no_such_dir"), 0)
    with pytest.raises(ValueError, match="LayerOptions.threads"):
        moetune.MoeLayer.from_pretrained(str(DATA / "qwen3_moe_tiny"), 1, threads=-1)
    with pytest.raises(ValueError, match="expected one of"):
        moetune.MoeLayer.from_pretrained(str(DATA / "qwen3_moe_tiny"), 1, strategy="fastest")
    assert issubclass(moetune.Error, ValueError)
