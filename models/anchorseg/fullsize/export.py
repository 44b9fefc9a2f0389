"""Export a reference AnchorSeg checkpoint (merged LoRA) as a three-engine bundle (docs/full-size.md).

    cd models && ../.venv/bin/python -m anchorseg.fullsize.export --checkpoint /path/to/AnchorSeg-7B-merged --out bundles/anchorseg-7b

Weights go to ONNX external data (`<engine>.onnx.data`, one file per engine; the 2 GB protobuf
limit), hashed in the manifest like every file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import tempfile
import warnings
from pathlib import Path

import onnx
import torch
from torch import nn

from ..export import OPSET, _io, sha256
from . import prompt
from .checkpoint import load
from .model import CLIP_SIZE, SAM_SIZE, AnchorSegFullSize

# SAM's [123.675, 116.28, 103.53] / [58.395, 57.12, 57.375] on 0..255. The reference's 7B scripts run
# with --pad_train_clip_images, whose CLIP input is resized (longest side 336, PIL bilinear), padded
# bottom-right and normalised with these same values (dataset.py `preprocess`), not CLIP's own.
PIXEL_MEAN, PIXEL_STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
REFERENCE = "github.com/rui-qian/AnchorSeg@0d8e3f0"


class VisionEngine(nn.Module):
    def __init__(self, m: AnchorSegFullSize):
        super().__init__()
        self.m = m

    def forward(self, clip_pixels, sam_pixels):
        mask = self.m.patch_mask(clip_pixels)
        tokens = self.m.image_tokens(clip_pixels, mask)
        features = self.m.sam.vision_encoder(sam_pixels).last_hidden_state
        side = SAM_SIZE // self.m.sam.config.vision_config.patch_size
        features = features.reshape(1, self.m.arch.prompt_dim, side, side)  # static dims for the manifest
        return tokens, mask, features, self.m.dense_valid(sam_pixels)


class ReasonerEngine(nn.Module):
    def __init__(self, m: AnchorSegFullSize, prefix_ids: list[int], tail: int):
        super().__init__()
        self.m = m
        self.register_buffer("prefix", torch.tensor([prefix_ids], dtype=torch.long), persistent=False)
        self.tail = tail

    def forward(self, image_tokens, image_token_mask, goal_ids, goal_mask):
        return self.m.reason(self.prefix, image_tokens, image_token_mask, goal_ids, goal_mask, self.tail)


class DecoderEngine(nn.Module):
    def __init__(self, m: AnchorSegFullSize):
        super().__init__()
        self.m = m

    def forward(self, image_states, mask_features, query_bank, dense_valid):
        return self.m.decode(image_states, mask_features, query_bank, dense_valid)


NAMES = {
    "vision": (["clip_pixels", "sam_pixels"], ["image_tokens", "image_token_mask", "mask_features", "dense_valid"]),
    "reasoner": (["image_tokens", "image_token_mask", "goal_ids", "goal_mask"], ["query_bank", "image_states", "score"]),
    "decoder": (["image_states", "mask_features", "query_bank", "dense_valid"], ["token_map", "mask_logits"]),
}


def prompt_ids(sp, specials: list[prompt.Special], latent_tokens: int, seg_id: int) -> tuple[list[int], int]:
    """The constant ids before the image (BOS + system + `USER: <im_start>`) and how many ids follow `[SEG]`
    in the templates (the same for both: the answer ends them)."""
    prefix = [sp.bos_id()] + prompt.encode(sp, prompt.PREFIX, specials)
    tails = set()
    for t in prompt.templates(latent_tokens).values():
        ids = prompt.encode(sp, t.replace("{goal}", "x"), specials)
        tails.add(len(ids) - 1 - max(i for i, v in enumerate(ids) if v == seg_id))
    if len(tails) != 1:
        raise ValueError(f"the templates end differently after [SEG] ({sorted(tails)} ids): the query bank would move")
    return prefix, tails.pop()


def export_engines(m: AnchorSegFullSize, prefix: list[int], tail: int, out: Path, dtype: torch.dtype) -> dict[str, Path]:
    m = m.to(dtype).eval()
    d = m.arch.llama["hidden_size"]
    n = m.grid * m.grid
    clip = torch.randn(1, 3, CLIP_SIZE, CLIP_SIZE, dtype=dtype)
    sam = torch.randn(1, 3, SAM_SIZE, SAM_SIZE, dtype=dtype)
    ids = torch.zeros(1, 12, dtype=torch.long)
    ones = torch.ones(1, 12, dtype=dtype)
    with torch.no_grad():
        tokens, mask, feats, valid = VisionEngine(m)(clip, sam)
        bank, states, _ = ReasonerEngine(m, prefix, tail)(tokens, mask, ids, ones)
    args = {
        "vision": (VisionEngine(m), (clip, sam), {}),
        "reasoner": (ReasonerEngine(m, prefix, tail), (tokens, mask, ids, ones), {"goal_ids": {1: "T"}, "goal_mask": {1: "T"}}),
        "decoder": (DecoderEngine(m), (states, feats, bank, valid), {}),
    }
    assert states.shape == (1, n, d)
    paths = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (module, inputs, dynamic) in args.items():
            raw = Path(tmp) / f"{name}.onnx"
            with warnings.catch_warnings(), torch.no_grad():
                warnings.simplefilter("ignore")
                torch.onnx.export(
                    module,
                    inputs,
                    str(raw),
                    input_names=NAMES[name][0],
                    output_names=NAMES[name][1],
                    dynamic_axes=dynamic,
                    opset_version=OPSET,
                    dynamo=False,
                    do_constant_folding=True,
                )
            graph = onnx.load(str(raw), load_external_data=True)
            path = out / f"{name}.onnx"
            # One external-data file per engine, whatever the model's size: the 7B path and the tests' tiny one
            # are the same. Tensors under 1 KiB stay inline (shape inputs such as Resize scales must).
            onnx.save_model(graph, str(path), save_as_external_data=True, all_tensors_to_one_file=True, location=f"{name}.onnx.data", size_threshold=1024)
            paths[name] = path
    return paths


def write_bundle(
    m: AnchorSegFullSize,
    sp_model: Path,
    specials: list[prompt.Special],
    out: Path,
    *,
    fp16: bool = True,
    name: str = "anchorseg-fullsize",
    version: str = "reference-0d8e3f0",
    provenance: dict | None = None,
) -> dict:
    import sentencepiece as spm

    out.mkdir(parents=True, exist_ok=True)
    sp = spm.SentencePieceProcessor(model_file=str(sp_model))
    k = m.arch.latent_tokens
    prefix, tail = prompt_ids(sp, specials, k, m.seg_id)
    dtype = torch.float16 if fp16 else torch.float32
    paths = export_engines(m, prefix, tail, out, dtype)
    shutil.copyfile(sp_model, out / "tokenizer.model")
    px = "float16" if fp16 else "float32"
    image = {"channelOrder": "rgb", "layout": "nchw", "dtype": px, "resize": "bilinear-antialias", "letterbox": "bottom-right"}
    engines = {}
    for eng, path in paths.items():
        inputs, outputs = _io(path)
        engines[eng] = {"file": path.name, "sha256": sha256(path), "inputs": inputs, "outputs": outputs}
    data_files = ["tokenizer.model"] + [f"{e}.onnx.data" for e in paths]
    manifest = {
        "format": "anchorseg-bundle",
        "formatVersion": 1,
        "model": {
            "name": name,
            "version": version,
            "latentTokens": k,
            "grid": m.grid,
            "dim": m.arch.llama["hidden_size"],
            "imageStates": "reasoner",
            "config": {
                "architecture": "AnchorSeg full size: LLaVA-1.5 (transformers LlavaForConditionalGeneration: CLIP ViT + LLaMA) + SAM (SamModel)",
                "reference": REFERENCE,
                "clip": m.arch.clip,
                "llama": m.arch.llama,
                "samVision": m.arch.sam_vision,
                "promptDim": m.arch.prompt_dim,
                "prefixIds": len(prefix),
                "idsAfterSeg": tail,
                "score": "p([SEG]) / (p([SEG]) + p([REJ])) from the LM head at the anchor row",
            },
        },
        "images": [
            {"input": "clip_pixels", "width": CLIP_SIZE, "height": CLIP_SIZE, **image, "mean": PIXEL_MEAN, "std": PIXEL_STD},
            {"input": "sam_pixels", "width": SAM_SIZE, "height": SAM_SIZE, **image, "mean": PIXEL_MEAN, "std": PIXEL_STD},
        ],
        "tokenizer": {
            "type": "sentencepiece",
            "model": "tokenizer.model",
            "padId": sp.unk_id(),
            "maxTokens": 512,
            "maxChars": 2048,
            "specialTokens": [{"text": s.text, "id": s.id, "strip": s.strip} for s in specials],
            "templates": prompt.templates(k),
        },
        "mask": {"image": "sam_pixels", "threshold": 0.0},
        "score": {"threshold": 0.5},
        "engines": engines,
        "files": [{"path": f, "sha256": sha256(out / f)} for f in data_files],
        "provenance": {"exportedWith": "python -m anchorseg.fullsize.export", "date": dt.date.today().isoformat(), **(provenance or {})},
    }
    (out / "anchorseg.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return manifest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", type=Path, required=True, help="folder of the merged reference checkpoint")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--fp32", action="store_true", help="float32 I/O and weights (default float16)")
    ap.add_argument("--name", default="anchorseg-7b")
    a = ap.parse_args()
    model, specials = load(a.checkpoint)
    write_bundle(model, a.checkpoint / "tokenizer.model", specials, a.out, fp16=not a.fp32, name=a.name, provenance={"checkpoint": str(a.checkpoint.resolve())})
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
