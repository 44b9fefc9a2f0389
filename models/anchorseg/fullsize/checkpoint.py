"""Loading a checkpoint in the reference's format: the folder its
`merge_lora_weights_and_save_hf_model.py` writes (LoRA merged; `config.json`, weights as
`*.safetensors` or `pytorch_model*.bin`, `tokenizer.model`, `added_tokens.json`).

Names are mapped from the reference's modules (LISA's `LlavaLlamaForCausalLM`, the original
`segment_anything`) to transformers' `LlavaForConditionalGeneration` / `SamModel` and this
package's heads. Every tensor the model needs must come from the checkpoint with its exact shape,
and every checkpoint tensor must be used or be one the evaluation path does not read; otherwise
the checkpoint is refused with the names.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import torch

from .model import AnchorSegFullSize, Arch, reference_7b
from .prompt import Special

# (reference name, ours), regexes applied in order; the first that matches wins.
NAME_MAP: list[tuple[str, str]] = [
    (r"^model\.embed_tokens\.", "llava.model.language_model.embed_tokens."),
    (r"^model\.layers\.", "llava.model.language_model.layers."),
    (r"^model\.norm\.", "llava.model.language_model.norm."),
    (r"^lm_head\.", "llava.lm_head."),
    (r"^model\.mm_projector\.0\.", "llava.model.multi_modal_projector.linear_1."),
    (r"^model\.mm_projector\.2\.", "llava.model.multi_modal_projector.linear_2."),
    (r"^model\.vision_tower\.vision_tower\.vision_model\.", "llava.model.vision_tower."),
    (r"^model\.text_hidden_fcs\.0\.", "anchor_fc."),
    (r"^model\.latent_hidden_fcs\.0\.", "latent_fc."),
    (r"^model\.visual_model\.mask_decoder\.latent_token_positional_embedding$", "slot_pos"),
    # SAM image encoder
    (r"^model\.visual_model\.image_encoder\.patch_embed\.proj\.", "sam.vision_encoder.patch_embed.projection."),
    (r"^model\.visual_model\.image_encoder\.pos_embed$", "sam.vision_encoder.pos_embed"),
    (r"^model\.visual_model\.image_encoder\.blocks\.(\d+)\.norm1\.", r"sam.vision_encoder.layers.\1.layer_norm1."),
    (r"^model\.visual_model\.image_encoder\.blocks\.(\d+)\.norm2\.", r"sam.vision_encoder.layers.\1.layer_norm2."),
    (r"^model\.visual_model\.image_encoder\.blocks\.(\d+)\.", r"sam.vision_encoder.layers.\1."),
    (r"^model\.visual_model\.image_encoder\.neck\.0\.", "sam.vision_encoder.neck.conv1."),
    (r"^model\.visual_model\.image_encoder\.neck\.1\.", "sam.vision_encoder.neck.layer_norm1."),
    (r"^model\.visual_model\.image_encoder\.neck\.2\.", "sam.vision_encoder.neck.conv2."),
    (r"^model\.visual_model\.image_encoder\.neck\.3\.", "sam.vision_encoder.neck.layer_norm2."),
    # SAM prompt encoder
    (r"^model\.visual_model\.prompt_encoder\.pe_layer\.positional_encoding_gaussian_matrix$", "sam.shared_image_embedding.positional_embedding"),
    (r"^model\.visual_model\.prompt_encoder\.point_embeddings\.", "sam.prompt_encoder.point_embed."),
    (r"^model\.visual_model\.prompt_encoder\.mask_downscaling\.0\.", "sam.prompt_encoder.mask_embed.conv1."),
    (r"^model\.visual_model\.prompt_encoder\.mask_downscaling\.1\.", "sam.prompt_encoder.mask_embed.layer_norm1."),
    (r"^model\.visual_model\.prompt_encoder\.mask_downscaling\.3\.", "sam.prompt_encoder.mask_embed.conv2."),
    (r"^model\.visual_model\.prompt_encoder\.mask_downscaling\.4\.", "sam.prompt_encoder.mask_embed.layer_norm2."),
    (r"^model\.visual_model\.prompt_encoder\.mask_downscaling\.6\.", "sam.prompt_encoder.mask_embed.conv3."),
    (r"^model\.visual_model\.prompt_encoder\.", "sam.prompt_encoder."),
    # SAM mask decoder
    (r"^model\.visual_model\.mask_decoder\.transformer\.layers\.(\d+)\.norm(\d)\.", r"sam.mask_decoder.transformer.layers.\1.layer_norm\2."),
    (r"^model\.visual_model\.mask_decoder\.transformer\.norm_final_attn\.", "sam.mask_decoder.transformer.layer_norm_final_attn."),
    (r"^model\.visual_model\.mask_decoder\.output_upscaling\.0\.", "sam.mask_decoder.upscale_conv1."),
    (r"^model\.visual_model\.mask_decoder\.output_upscaling\.1\.", "sam.mask_decoder.upscale_layer_norm."),
    (r"^model\.visual_model\.mask_decoder\.output_upscaling\.3\.", "sam.mask_decoder.upscale_conv2."),
    (r"^model\.visual_model\.mask_decoder\.(output_hypernetworks_mlps\.\d+|iou_prediction_head)\.layers\.0\.", r"sam.mask_decoder.\1.proj_in."),
    (r"^model\.visual_model\.mask_decoder\.(output_hypernetworks_mlps\.\d+|iou_prediction_head)\.layers\.1\.", r"sam.mask_decoder.\1.layers.0."),
    (r"^model\.visual_model\.mask_decoder\.(output_hypernetworks_mlps\.\d+|iou_prediction_head)\.layers\.2\.", r"sam.mask_decoder.\1.proj_out."),
    (r"^model\.visual_model\.mask_decoder\.", "sam.mask_decoder."),
]
# Read separately: added to the mask tokens (`mask_tokens.weight + positional_embedding` in the
# reference's predict_masks), which is the same as folding it into them.
MASK_TOKEN_POS = "model.visual_model.mask_decoder.positional_embedding"
# One tensor under two names in transformers' SamModel (the prompt encoder shares the image one).
ALIASES = {"sam.shared_image_embedding.positional_embedding": "sam.prompt_encoder.shared_embedding.positional_embedding"}
# In the checkpoint but not on the evaluation path: the layer-selection policy (PPMv2 runs its
# mode 1, the last layer, at evaluation), the second projector of --separate_mm_projector (it feeds
# only evaluate_v2's multi-scale features), an init flag, rotary caches.
IGNORED = [
    r"^ppm\.",
    r"^model\.out_mm_projector\.",
    r"^model\.decoder_modules_initialized$",
    r"\.rotary_emb\.inv_freq$",
    r"^model\.vision_tower\.vision_tower\.vision_model\.embeddings\.position_ids$",
]


class CheckpointError(ValueError):
    """A checkpoint that does not fit the architecture; the message names every offending tensor."""


def map_name(name: str) -> str | None:
    for pattern, repl in NAME_MAP:
        if re.search(pattern, name):
            return re.sub(pattern, repl, name)
    return None


def map_state(ref: dict[str, torch.Tensor], model: AnchorSegFullSize) -> dict[str, torch.Tensor]:
    """The checkpoint's tensors under our names; raises CheckpointError naming missing, unexpected
    and mismatched tensors (all of them, not the first)."""
    want = {k: v for k, v in model.state_dict().items()}
    out: dict[str, torch.Tensor] = {}
    unexpected: list[str] = []
    for name, t in ref.items():
        if name == MASK_TOKEN_POS or any(re.search(p, name) for p in IGNORED):
            continue
        ours = map_name(name)
        if ours is None or ours not in want:
            unexpected.append(name)
        else:
            out[ours] = t
            if ours in ALIASES:
                out[ALIASES[ours]] = t
    problems: list[str] = []
    missing = sorted(k for k in want if k not in out)
    if missing:
        problems.append("missing: " + ", ".join(missing))
    if MASK_TOKEN_POS not in ref:
        problems.append(f"missing: {MASK_TOKEN_POS}")
    if unexpected:
        problems.append("unexpected: " + ", ".join(sorted(unexpected)))
    mismatched = [f"{k} (expected {list(want[k].shape)}, got {list(t.shape)})" for k, t in out.items() if t.shape != want[k].shape]
    pos = ref.get(MASK_TOKEN_POS)
    mask_tokens = "sam.mask_decoder.mask_tokens.weight"
    if pos is not None and pos.shape != want[mask_tokens].shape:
        mismatched.append(f"{MASK_TOKEN_POS} (expected {list(want[mask_tokens].shape)}, got {list(pos.shape)})")
    if mismatched:
        problems.append("mismatched: " + ", ".join(sorted(mismatched)))
    if problems:
        raise CheckpointError("checkpoint does not fit the architecture; " + "; ".join(problems))
    if mask_tokens in out:
        out[mask_tokens] = out[mask_tokens] + pos
    return out


def read_weights(folder: Path) -> dict[str, torch.Tensor]:
    files = sorted(folder.glob("*.safetensors"))
    if files:
        from safetensors.torch import load_file

        return {k: v for f in files for k, v in load_file(str(f)).items()}
    files = sorted(folder.glob("pytorch_model*.bin"))
    if not files:
        raise CheckpointError(f"no weights in {folder}: expected *.safetensors or pytorch_model*.bin")
    out: dict[str, torch.Tensor] = {}
    for f in files:
        out.update(torch.load(f, map_location="cpu", weights_only=True))
    return out


LLAMA_KEYS = [
    "hidden_size",
    "intermediate_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_key_value_heads",
    "rms_norm_eps",
    "max_position_embeddings",
    "rope_theta",
    "hidden_act",
]


def load(folder: Path, arch: Arch | None = None) -> tuple[AnchorSegFullSize, list[Special]]:
    """The model with the checkpoint's weights and the tokenizer's special tokens. `arch` defaults
    to the reference 7B's vision parts with the LLaMA config from `config.json`."""
    folder = Path(folder)
    cfg = json.loads((folder / "config.json").read_text())
    added = json.loads((folder / "added_tokens.json").read_text())
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(folder / "tokenizer.model"))
    for name in ["[SEG]", "[REJ]", "<im_start>", "<im_end>"]:
        if name not in added:
            raise CheckpointError(f"added_tokens.json in {folder} lacks {name}")
    if arch is None:
        arch = reference_7b({k: cfg[k] for k in LLAMA_KEYS if k in cfg})
    vocab = max([sp.get_piece_size() - 1, *added.values()]) + 1
    if cfg.get("vocab_size", vocab) != vocab:
        raise CheckpointError(f"config.json vocab_size {cfg['vocab_size']} but tokenizer.model + added_tokens.json give {vocab}")
    # The <image> placeholder never reaches the embedding (features replace it): an id past the vocabulary.
    model = AnchorSegFullSize(arch, vocab, image_token_id=vocab, seg_id=added["[SEG]"], rej_id=added["[REJ]"])
    state = map_state(read_weights(folder), model)
    model.load_state_dict(state, strict=True)
    model.eval()
    specials = [Special(sp.id_to_piece(i), i, False) for i in (sp.bos_id(), sp.eos_id(), sp.unk_id()) if i >= 0]
    specials += [Special(text, i, True) for text, i in sorted(added.items(), key=lambda kv: kv[1])]
    return model, specials
