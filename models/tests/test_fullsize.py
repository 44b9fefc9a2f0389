"""Full-size export on tiny random configs of the real classes: checkpoint loading, refusal,
onnxruntime vs PyTorch, and the reference's own way of finding the query bank."""

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import sentencepiece as spm
import torch
from safetensors.torch import load_file, save_file

from anchorseg.fullsize import prompt
from anchorseg.fullsize.checkpoint import CheckpointError, load
from anchorseg.fullsize.export import NAMES, DecoderEngine, ReasonerEngine, VisionEngine, prompt_ids, write_bundle
from anchorseg.fullsize.tiny import ARCH, write_checkpoint

IMAGE_TOKEN_INDEX = -200  # LLaVA's placeholder id in input_ids


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("fullsize")
    original = write_checkpoint(root / "ck")
    model, specials = load(root / "ck", ARCH)
    sp = spm.SentencePieceProcessor(model_file=str(root / "ck" / "tokenizer.model"))
    return {"root": root, "original": original, "model": model, "specials": specials, "sp": sp}


def frames(seed=0):
    """Letterboxed pixels as the SDK sends them: content top-left, exact zeros as padding (a 4:3 frame)."""
    g = torch.Generator().manual_seed(seed)
    clip = torch.randn(1, 3, 336, 336, generator=g)
    clip[:, :, 252:] = 0
    sam = torch.randn(1, 3, 1024, 1024, generator=g)
    sam[:, :, 768:] = 0
    return clip, sam


def goal_tensors(tiny, goal, dtype=torch.float32):
    ids = prompt.encode(tiny["sp"], prompt.goal_prompt(goal, ARCH.latent_tokens), tiny["specials"])
    return torch.tensor([ids]), torch.ones(1, len(ids), dtype=dtype)


def test_loads_every_tensor_of_the_reference_format(tiny):
    want = tiny["original"].state_dict()
    got = tiny["model"].state_dict()
    assert set(got) == set(want)
    worst = max((got[k].float() - want[k].float()).abs().max().item() for k in want)
    assert worst < 1e-6  # the mask tokens come back with the positional embedding folded in


def test_refuses_missing_unexpected_and_mismatched_tensors(tiny, tmp_path):
    ck = tiny["root"] / "ck"
    bad = tmp_path / "bad"
    bad.mkdir()
    for f in ["config.json", "added_tokens.json", "tokenizer.model"]:
        (bad / f).write_bytes((ck / f).read_bytes())
    state = load_file(str(ck / "model.safetensors"))
    del state["model.visual_model.mask_decoder.iou_token.weight"]
    state["model.mm_projector.0.weight"] = torch.zeros(3, 3)
    state["model.some_new_head.weight"] = torch.zeros(2)
    save_file(state, str(bad / "model.safetensors"))
    with pytest.raises(CheckpointError) as e:
        load(bad, ARCH)
    msg = str(e.value)
    assert "missing: sam.mask_decoder.iou_token.weight" in msg
    assert "unexpected: model.some_new_head.weight" in msg
    assert "mismatched: llava.model.multi_modal_projector.linear_1.weight (expected [64, 32], got [3, 3])" in msg


def test_prompt_ids_follow_the_reference_conversation(tiny):
    sp, specials = tiny["sp"], tiny["specials"]
    prefix, tail = prompt_ids(sp, specials, ARCH.latent_tokens, tiny["model"].seg_id)
    assert prefix[0] == sp.bos_id() and prefix[-1] == next(s.id for s in specials if s.text == "<im_start>")
    ids = prompt.encode(sp, prompt.goal_prompt("the red cup", 7), specials)
    assert ids[0] == next(s.id for s in specials if s.text == "<im_end>")
    assert ids[-tail - 1] == tiny["model"].seg_id and ids[-1] == sp.eos_id()
    assert prompt.goal_prompt("Where can I sit?", 7).startswith("<im_end>\n Where can I sit? Please output")


@pytest.fixture(scope="module")
def bundles(tiny):
    out = {}
    for name, fp16 in [("fp32", False), ("fp16", True)]:
        model, specials = load(tiny["root"] / "ck", ARCH)
        write_bundle(model, tiny["root"] / "ck" / "tokenizer.model", specials, tiny["root"] / name, fp16=fp16)
        out[name] = tiny["root"] / name
    return out


def run_engine(folder: Path, eng: str, pool: dict) -> dict:
    s = ort.InferenceSession(str(folder / f"{eng}.onnx"), providers=["CPUExecutionProvider"])
    out = s.run(None, {i.name: pool[i.name] for i in s.get_inputs()})
    return {o.name: v for o, v in zip(s.get_outputs(), out)}


def run_bundle(folder: Path, pool: dict) -> dict:
    """The three engines in order, wired by name as the SDK wires them."""
    pool = dict(pool)
    for eng in ["vision", "reasoner", "decoder"]:
        pool.update(run_engine(folder, eng, pool))
    return pool


def torch_forward(tiny, clip, sam, goal, dtype=torch.float32):
    """PyTorch on the same weights; every engine's inputs and outputs by name."""
    m = load(tiny["root"] / "ck", ARCH)[0].to(dtype)  # a fresh copy (exports cast the one they get)
    prefix, tail = prompt_ids(tiny["sp"], tiny["specials"], ARCH.latent_tokens, m.seg_id)
    ids, gm = goal_tensors(tiny, goal, dtype)
    pool = {"clip_pixels": clip.to(dtype), "sam_pixels": sam.to(dtype), "goal_ids": ids, "goal_mask": gm}
    with torch.no_grad():
        for module, names in [(VisionEngine(m), NAMES["vision"]), (ReasonerEngine(m, prefix, tail), NAMES["reasoner"]), (DecoderEngine(m), NAMES["decoder"])]:
            pool.update(zip(names[1], module(*(pool[n] for n in names[0]))))
    return m, pool


@pytest.mark.parametrize("goal", ["the red cup", "What could I pour water into?"])
def test_onnxruntime_matches_pytorch_fp32(tiny, bundles, goal):
    clip, sam = frames()
    _, ref = torch_forward(tiny, clip, sam, goal)
    got = run_bundle(bundles["fp32"], {k: ref[k].numpy() for k in ["clip_pixels", "sam_pixels", "goal_ids", "goal_mask"]})
    for eng in NAMES.values():
        for k in eng[1]:
            assert np.abs(got[k] - ref[k].numpy()).max() <= 1e-4, k


def test_onnxruntime_matches_pytorch_fp16(tiny, bundles):
    """Each fp16 engine against PyTorch fp16 on the same inputs (the export's error, not fp16's own
    drift across three engines: end to end, fp16 logits differ from fp32 by ~5e-3 on these weights).
    Logits and score within 5e-3; intermediate states within 5e-3 of their own scale (a few fp16 ulps)."""
    clip, sam = frames()
    _, ref = torch_forward(tiny, clip, sam, "the red cup", torch.float16)
    for eng, (inputs, outputs) in NAMES.items():
        got = run_engine(bundles["fp16"], eng, {k: ref[k].numpy() for k in inputs})
        for k in outputs:
            assert got[k].dtype == ref[k].numpy().dtype, k
            want = ref[k].float().numpy()
            scale = 1.0 if k in ("mask_logits", "score") else max(1.0, float(np.abs(want).max()))
            assert np.abs(got[k].astype(np.float32) - want).max() <= 5e-3 * scale, (eng, k)


def test_reference_style_forward_gives_the_same_query_bank(tiny):
    """The reference's own path (model_forward, inference=True): the whole conversation tokenized with
    `<image>` as IMAGE_TOKEN_INDEX, features spliced in, `[SEG]` found in the ids and the states taken
    through its seg_token_mask shift (`input_ids[:, 1:] == SEG`, padded by num_patches - 1 on the left)."""
    clip, sam = frames(1)
    goal = "the thing I can pour water into"
    m, ours = torch_forward(tiny, clip, sam, goal)
    sp, specials = tiny["sp"], tiny["specials"]
    latents = " ".join(f"[LATENT{i}]" for i in range(ARCH.latent_tokens))
    conv = f"{prompt.SYSTEM} USER: <im_start><image><im_end>\n What is {goal} in this image? Please output segmentation mask. ASSISTANT: {latents} [SEG].</s>"
    before, after = conv.split("<image>")
    input_ids = torch.tensor([[sp.bos_id(), *prompt.encode(sp, before, specials), IMAGE_TOKEN_INDEX, *prompt.encode(sp, after, specials)]])
    with torch.no_grad():
        pmask = m.patch_mask(clip)
        feats = m.image_tokens(clip, pmask)
        at = int((input_ids[0] == IMAGE_TOKEN_INDEX).nonzero())
        embed = m.llava.model.language_model.get_input_embeddings()
        x = torch.cat([embed(input_ids[:, :at]), feats, embed(input_ids[:, at + 1 :])], dim=1)
        attn = torch.cat([torch.ones(1, at), pmask, torch.ones(1, input_ids.shape[1] - at - 1)], dim=1)
        h = m.llava.model.language_model(inputs_embeds=x, attention_mask=attn, use_cache=False).last_hidden_state
    n = m.grid * m.grid
    seg_mask = input_ids[:, 1:] == m.seg_id
    seg_mask = torch.cat([torch.zeros(1, n - 1, dtype=torch.bool), seg_mask, torch.zeros(1, 1, dtype=torch.bool)], dim=1)
    (pos,) = seg_mask[0].nonzero()[0].tolist()
    bank = torch.cat([h[0, pos - ARCH.latent_tokens : pos], h[0, pos : pos + 1]])[None]
    assert torch.allclose(bank, ours["query_bank"], atol=1e-5)
    assert torch.allclose(h[:, at : at + n], ours["image_states"], atol=1e-5)
