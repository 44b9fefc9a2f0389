"""The reference's evaluation prompt and how its tokenizer reads it.

The conversation is LLaVA's `llava_v1` (dataloaders/conversation.py) as the reference's
ReasonSeg validation builds it (dataloaders/dataset.py): `<image>` becomes
`<im_start><image><im_end>` (use_mm_start_end), `[SEG]` becomes `[LATENT0] ... [LATENT6] [SEG]`,
and `tokenizer_image_token` tokenizes the text before and after `<image>` separately (BOS only on
the first). The text before the image is constant: the exporter bakes its ids into the reasoner.
The text after it is the manifest's template, which the SDK tokenizes (docs/bundle-format.md).

Tokenizing follows transformers' slow `LlamaTokenizer` (use_fast=False, legacy) with the
reference's added tokens: cut at special tokens, strip whitespace beside the tokens added by
`add_tokens`, SentencePiece on each remaining piece. The SDK does the same in TypeScript
(sdk/model/tokenizer-sentencepiece.ts); the tests check both give the same ids.
"""

from __future__ import annotations

from dataclasses import dataclass

SYSTEM = (
    "A chat between a curious human and an artificial intelligence assistant. "
    "The assistant gives helpful, detailed, and polite answers to the human's questions."
)
PREFIX = f"{SYSTEM} USER: <im_start>"
QUESTIONS = {
    "short": "<im_end>\n What is {goal} in this image? Please output segmentation mask.",
    "long": "<im_end>\n {goal} Please output segmentation mask.",
}


def answer(latent_tokens: int) -> str:
    latents = " ".join(f"[LATENT{i}]" for i in range(latent_tokens))
    return f" ASSISTANT: {latents} [SEG].</s>"


def templates(latent_tokens: int) -> dict[str, str]:
    return {k: q + answer(latent_tokens) for k, q in QUESTIONS.items()}


@dataclass(frozen=True)
class Special:
    text: str
    id: int
    strip: bool


def split(prompt: str, specials: list[Special]) -> list[str | Special]:
    """Text pieces and special tokens, leftmost then longest match; stripping tokens trim their neighbours."""
    ordered = sorted(specials, key=lambda s: -len(s.text))
    parts: list[str | Special] = []
    start = i = 0
    while i < len(prompt):
        tok = next((s for s in ordered if prompt.startswith(s.text, i)), None)
        if tok is None:
            i += 1
            continue
        parts += [prompt[start:i], tok]
        i += len(tok.text)
        start = i
    parts.append(prompt[start:])
    for k, p in enumerate(parts):
        if isinstance(p, str):
            if k > 0 and parts[k - 1].strip:  # type: ignore[union-attr]
                p = p.lstrip()
            if k + 1 < len(parts) and parts[k + 1].strip:  # type: ignore[union-attr]
                p = p.rstrip()
            parts[k] = p
    return parts


def encode(sp, prompt: str, specials: list[Special]) -> list[int]:
    ids: list[int] = []
    for p in split(prompt, specials):
        if isinstance(p, Special):
            ids.append(p.id)
        elif p:
            ids += sp.encode(p)
    return ids


def goal_prompt(goal: str, latent_tokens: int) -> str:
    """The template the SDK picks: `long` for a goal that ends like a sentence."""
    goal = goal.strip()
    kind = "long" if goal.endswith((".", "?", "!")) else "short"
    return templates(latent_tokens)[kind].replace("{goal}", goal)
