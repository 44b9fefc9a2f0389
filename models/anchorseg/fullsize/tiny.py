"""A tiny random checkpoint in the reference's format, for tests and the SDK's end-to-end check.

The same classes as the 7B (`LlavaForConditionalGeneration`, `SamModel`) with small configs, a
LLaMA-like SentencePiece model trained here (nothing downloaded), the reference's added tokens in
its order (`[SEG]`, `[REJ]`, `[LATENT0..6]`, then `<im_start>`, `<im_end>`), and the weights under
the reference's names (the inverse of checkpoint.NAME_MAP, written out separately so that a
mapping error shows up as a missing or unexpected tensor).

    cd models && ../.venv/bin/python -m anchorseg.fullsize.tiny <folder>            # checkpoint only
    cd models && ../.venv/bin/python -m anchorseg.fullsize.tiny <folder> --bundle <dir> [--fp32]
"""

from __future__ import annotations

import argparse
import glob
import json
import re
from pathlib import Path

import torch

from .model import AnchorSegFullSize, Arch

ARCH = Arch(
    clip={"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 3, "num_attention_heads": 2, "projection_dim": 32},
    llama={
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 4,
        "rms_norm_eps": 1e-5,
        "max_position_embeddings": 2048,
        "hidden_act": "silu",
    },
    sam_vision={"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "global_attn_indexes": [1], "mlp_dim": 64, "window_size": 4},
)
ADDED = ["[SEG]", "[REJ]", *[f"[LATENT{i}]" for i in range(7)], "<im_start>", "<im_end>"]

# (our name, the reference's), for writing the reference's format.
TO_REFERENCE: list[tuple[str, str]] = [
    (r"^llava\.model\.language_model\.", "model."),
    (r"^llava\.lm_head\.", "lm_head."),
    (r"^llava\.model\.multi_modal_projector\.linear_1\.", "model.mm_projector.0."),
    (r"^llava\.model\.multi_modal_projector\.linear_2\.", "model.mm_projector.2."),
    (r"^llava\.model\.vision_tower\.", "model.vision_tower.vision_tower.vision_model."),
    (r"^anchor_fc\.", "model.text_hidden_fcs.0."),
    (r"^latent_fc\.", "model.latent_hidden_fcs.0."),
    (r"^slot_pos$", "model.visual_model.mask_decoder.latent_token_positional_embedding"),
    (r"^sam\.vision_encoder\.patch_embed\.projection\.", "model.visual_model.image_encoder.patch_embed.proj."),
    (r"^sam\.vision_encoder\.layers\.(\d+)\.layer_norm(\d)\.", r"model.visual_model.image_encoder.blocks.\1.norm\2."),
    (r"^sam\.vision_encoder\.layers\.", "model.visual_model.image_encoder.blocks."),
    (r"^sam\.vision_encoder\.neck\.conv1\.", "model.visual_model.image_encoder.neck.0."),
    (r"^sam\.vision_encoder\.neck\.layer_norm1\.", "model.visual_model.image_encoder.neck.1."),
    (r"^sam\.vision_encoder\.neck\.conv2\.", "model.visual_model.image_encoder.neck.2."),
    (r"^sam\.vision_encoder\.neck\.layer_norm2\.", "model.visual_model.image_encoder.neck.3."),
    (r"^sam\.vision_encoder\.", "model.visual_model.image_encoder."),
    (r"^sam\.shared_image_embedding\.positional_embedding$", "model.visual_model.prompt_encoder.pe_layer.positional_encoding_gaussian_matrix"),
    (r"^sam\.prompt_encoder\.point_embed\.", "model.visual_model.prompt_encoder.point_embeddings."),
    (r"^sam\.prompt_encoder\.mask_embed\.conv1\.", "model.visual_model.prompt_encoder.mask_downscaling.0."),
    (r"^sam\.prompt_encoder\.mask_embed\.layer_norm1\.", "model.visual_model.prompt_encoder.mask_downscaling.1."),
    (r"^sam\.prompt_encoder\.mask_embed\.conv2\.", "model.visual_model.prompt_encoder.mask_downscaling.3."),
    (r"^sam\.prompt_encoder\.mask_embed\.layer_norm2\.", "model.visual_model.prompt_encoder.mask_downscaling.4."),
    (r"^sam\.prompt_encoder\.mask_embed\.conv3\.", "model.visual_model.prompt_encoder.mask_downscaling.6."),
    (r"^sam\.prompt_encoder\.", "model.visual_model.prompt_encoder."),
    (r"^sam\.mask_decoder\.transformer\.layers\.(\d+)\.layer_norm(\d)\.", r"model.visual_model.mask_decoder.transformer.layers.\1.norm\2."),
    (r"^sam\.mask_decoder\.transformer\.layer_norm_final_attn\.", "model.visual_model.mask_decoder.transformer.norm_final_attn."),
    (r"^sam\.mask_decoder\.upscale_conv1\.", "model.visual_model.mask_decoder.output_upscaling.0."),
    (r"^sam\.mask_decoder\.upscale_layer_norm\.", "model.visual_model.mask_decoder.output_upscaling.1."),
    (r"^sam\.mask_decoder\.upscale_conv2\.", "model.visual_model.mask_decoder.output_upscaling.3."),
    (r"^sam\.mask_decoder\.(output_hypernetworks_mlps\.\d+|iou_prediction_head)\.proj_in\.", r"model.visual_model.mask_decoder.\1.layers.0."),
    (r"^sam\.mask_decoder\.(output_hypernetworks_mlps\.\d+|iou_prediction_head)\.layers\.0\.", r"model.visual_model.mask_decoder.\1.layers.1."),
    (r"^sam\.mask_decoder\.(output_hypernetworks_mlps\.\d+|iou_prediction_head)\.proj_out\.", r"model.visual_model.mask_decoder.\1.layers.2."),
    (r"^sam\.mask_decoder\.", "model.visual_model.mask_decoder."),
]


def to_reference(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    out = {}
    for name, t in state.items():
        if name == "sam.prompt_encoder.shared_embedding.positional_embedding":
            continue  # the shared one, written once
        for pattern, repl in TO_REFERENCE:
            if re.search(pattern, name):
                out[re.sub(pattern, repl, name)] = t.clone()
                break
        else:
            raise KeyError(f"no reference name for {name}")
    return out


def train_tokenizer(out: Path) -> Path:
    """LLaMA's trainer options on the ReasonSeg-Synth goals and the reference's prompt text."""
    import sentencepiece as spm

    from .prompt import PREFIX, templates

    root = Path(__file__).resolve().parents[2]
    goals = [t for f in sorted(glob.glob(str(root / "data/reasonseg-synth/val/*.json")))[:400] for t in json.loads(Path(f).read_text())["text"]]
    lines = goals + [PREFIX, *templates(7).values()] * 30
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines),
        model_prefix=str(out / "tokenizer"),
        model_type="bpe",
        vocab_size=700,
        byte_fallback=True,
        split_digits=True,
        add_dummy_prefix=True,
        normalization_rule_name="identity",
        remove_extra_whitespaces=False,
        allow_whitespace_only_pieces=True,
        unk_id=0,
        bos_id=1,
        eos_id=2,
        pad_id=-1,
        minloglevel=2,
    )
    return out / "tokenizer.model"


def randomize(model: torch.nn.Module) -> None:
    """Weights with trained-like magnitudes (transformers' init leaves some parts near zero, e.g. SAM's
    features at ~1e-20, which would make any tolerance meaningless): matrices ~ N(0, 1/fan_in),
    norm scales ~ 1, biases and vectors ~ N(0, 0.1)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() >= 2:
                p.normal_(0, p[0].numel() ** -0.5)
            elif name.endswith("weight"):
                p.normal_(1, 0.1)
            else:
                p.normal_(0, 0.1)


def write_checkpoint(folder: Path, seed: int = 14) -> AnchorSegFullSize:
    """Writes the checkpoint folder; returns the model it holds (mask-token positions folded in)."""
    import sentencepiece as spm
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    sp = spm.SentencePieceProcessor(model_file=str(train_tokenizer(folder)))
    n = sp.get_piece_size()
    added = {t: n + i for i, t in enumerate(ADDED)}
    vocab = n + len(ADDED)
    torch.manual_seed(seed)
    model = AnchorSegFullSize(ARCH, vocab, image_token_id=vocab, seg_id=added["[SEG]"], rej_id=added["[REJ]"]).eval()
    randomize(model)
    ref = to_reference(model.state_dict())
    pos = torch.randn_like(ref["model.visual_model.mask_decoder.mask_tokens.weight"]) * 0.1
    ref["model.visual_model.mask_decoder.mask_tokens.weight"] -= pos
    ref["model.visual_model.mask_decoder.positional_embedding"] = pos
    ref["ppm._layer_gate_W_similarity"] = torch.ones(ARCH.llama["num_hidden_layers"] + 1, ARCH.llama["hidden_size"])
    ref["model.out_mm_projector.0.weight"] = torch.zeros(ARCH.llama["hidden_size"], ARCH.clip["hidden_size"])
    ref["model.decoder_modules_initialized"] = torch.tensor(True)
    save_file({k: v.contiguous() for k, v in ref.items()}, str(folder / "model.safetensors"))
    (folder / "added_tokens.json").write_text(json.dumps(added))
    (folder / "config.json").write_text(json.dumps({"architectures": ["AnchorSegForCausalLM"], "vocab_size": vocab, **ARCH.llama}))
    return model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", type=Path)
    ap.add_argument("--bundle", type=Path)
    ap.add_argument("--fp32", action="store_true")
    a = ap.parse_args()
    write_checkpoint(a.folder)
    if a.bundle:
        from .checkpoint import load
        from .export import write_bundle

        model, specials = load(a.folder, ARCH)
        write_bundle(model, a.folder / "tokenizer.model", specials, a.bundle, fp16=not a.fp32, name="anchorseg-fullsize-tiny", version="random")


if __name__ == "__main__":
    main()
