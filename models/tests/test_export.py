"""Export: TensorRT-friendly op set, manifest I/O, and PyTorch vs onnxruntime parity."""

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from anchorseg.evaluate import BundleRunner, run_engine
from anchorseg.export import export_engines, write_bundle
from anchorseg.model import AnchorSeg, Config

BUNDLE = Path(__file__).resolve().parents[1] / "bundles" / "anchorseg-tiny"

# Ops TensorRT 10 parses and runs; no OneHot, no Tile on shape tensors, no data-dependent shapes.
ALLOWED = {
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Pow",
    "Sqrt",
    "Erf",
    "Exp",
    "Neg",
    "Abs",
    "Max",
    "Min",
    "Clip",
    "MatMul",
    "Gemm",
    "Conv",
    "ConvTranspose",
    "BatchNormalization",
    "LayerNormalization",
    "InstanceNormalization",
    "Relu",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "Gelu",
    "Reshape",
    "Transpose",
    "Concat",
    "Slice",
    "Gather",
    "Unsqueeze",
    "Squeeze",
    "Flatten",
    "Expand",
    "Shape",
    "Constant",
    "ConstantOfShape",
    "Cast",
    "ReduceMean",
    "ReduceMax",
    "ReduceMin",
    "ReduceSum",
    "Resize",
    "Einsum",
    "Identity",
    "Equal",
    "Where",
    "Range",
    "Mod",
}
FORBIDDEN = {"OneHot", "Tile", "NonZero", "Loop", "If", "Scan", "NonMaxSuppression", "Unique", "TopK"}


def _ops(path: Path) -> set[str]:
    return {n.op_type for n in onnx.load(str(path)).graph.node}


@pytest.fixture(
    scope="module", params=[{"image_states": "vision"}, {"image_states": "reasoner"}, {"single_seg": True}], ids=["vision", "reasoner", "single-seg"]
)
def exported(request, tmp_path_factory):
    torch.manual_seed(0)
    cfg = Config(vocab_size=50, **request.param)
    model = AnchorSeg(cfg).eval()
    with torch.no_grad():  # weights far from their init, as training leaves them: attention is far from uniform
        for name, t in model.state_dict().items():
            if t.dtype.is_floating_point:
                t.copy_(torch.rand_like(t) + 0.2 if "running_var" in name else t + torch.randn_like(t) * 0.2)
    d = tmp_path_factory.mktemp("bundle")
    words = ["find", "the", "red", "cup", "please"]  # generator words: three function, two content words
    (d / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", *words] + [f"w{i}" for i in range(48 - len(words))]) + "\n")
    torch.save({"config": cfg.to_dict(), "state": model.state_dict(), "step": 0, "tmcc": True}, d / "ck.pt")
    manifest = write_bundle(d / "ck.pt", d / "bundle", vocab=d / "vocab.txt")
    return model, d / "bundle", json.loads(manifest.read_text())


def test_manifest_lists_the_function_words_of_its_vocabulary_and_reads_inflections(exported):
    # the generator's function words within this vocabulary (DATA.md, content words)
    assert exported[2]["tokenizer"]["functionWords"] == ["find", "please", "the"]
    assert exported[2]["tokenizer"]["inflections"] is True
    assert BundleRunner(exported[1]).tok.read("cups") == "cup"


def test_op_allow_list(exported):
    _, bundle, manifest = exported
    for name, spec in manifest["engines"].items():
        ops = _ops(bundle / spec["file"])
        assert not ops & FORBIDDEN, (name, ops & FORBIDDEN)
        assert ops <= ALLOWED, (name, ops - ALLOWED)


def test_manifest_describes_graph_io(exported):
    model, _, manifest = exported
    cfg = model.cfg
    eng = manifest["engines"]
    assert [i["name"] for i in eng["vision"]["inputs"]] == ["pixels"]
    assert eng["reasoner"]["outputs"][0] == {"name": "query_bank", "dtype": "float32", "shape": [1, cfg.queries, cfg.dim]}
    # the goal at its own length (the inference graph): no padded positions to run
    assert [i["shape"] for i in eng["reasoner"]["inputs"][1:]] == [[1, "T"], [1, "T"]]
    assert manifest["provenance"]["graph"] == "inference"
    assert eng["decoder"]["outputs"][1]["shape"] == [1, 1, 2 * cfg.mask_grid, 2 * cfg.mask_grid]
    states = "image_tokens" if cfg.image_states == "vision" else "image_states"
    assert eng["decoder"]["inputs"][0]["name"] == states
    assert manifest["formatVersion"] == 1 and len(eng["vision"]["sha256"]) == 64


@pytest.mark.parametrize("length", [1, 6, 40])
def test_onnx_matches_pytorch_at_any_goal_length(exported, length):
    """The engines (reasoner and decoder re-expressed, the goal unpadded) give the training model's
    outputs on the padded goal."""
    model, bundle, manifest = exported
    cfg = model.cfg
    rng = np.random.default_rng(length)
    px = rng.standard_normal((1, 3, cfg.input_size, cfg.input_size)).astype(np.float32)
    ids = np.zeros((1, cfg.text_len), dtype=np.int64)
    ids[0, :length] = rng.integers(2, 50, length)
    gm = (ids > 0).astype(np.float32)
    with torch.no_grad():
        tmap, _, logits, score = model(torch.from_numpy(px), torch.from_numpy(ids), torch.from_numpy(gm))
    pool = {"pixels": px, "goal_ids": ids[:, :length], "goal_mask": gm[:, :length]}
    for name in ("vision", "reasoner", "decoder"):
        run_engine(ort.InferenceSession(str(bundle / manifest["engines"][name]["file"]), providers=["CPUExecutionProvider"]), pool)
    assert np.abs(logits.numpy()).max() > 1  # not a degenerate output
    np.testing.assert_allclose(pool["token_map"], tmap.numpy(), atol=1e-4)
    np.testing.assert_allclose(pool["mask_logits"], logits.numpy(), atol=1e-3, rtol=1e-3)
    np.testing.assert_allclose(pool["score"], torch.sigmoid(score).numpy(), atol=1e-4)


@pytest.mark.skipif(not (BUNDLE / "anchorseg.json").exists(), reason="no committed bundle yet")
def test_committed_bundle_op_allow_list_and_hashes():
    import hashlib

    manifest = json.loads((BUNDLE / "anchorseg.json").read_text())
    for spec in manifest["engines"].values():
        path = BUNDLE / spec["file"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == spec["sha256"]
        assert _ops(path) <= ALLOWED


def test_an_unknown_graph_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"Expected a graph in \('inference', 'modules'\) but received 'fast'"):
        export_engines(AnchorSeg(Config(vocab_size=8)), tmp_path, "fast")
