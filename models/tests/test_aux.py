"""Auxiliary training labels and heads (anchorseg.aux): labels agree with the scene, heads train."""

import numpy as np
import torch

from anchorseg import aux, preprocess
from anchorseg.model import AnchorSeg, Config
from anchorseg.reasonseg import rasterize_polygons
from anchorseg.synth import sample
from anchorseg.synth.lexicon import CATEGORY_NAMES


def _labels(s, cfg: Config | None = None, every_object: bool = False):
    cfg = cfg or Config()
    _, lb = preprocess.to_input(s.image, cfg.input_size, cfg.input_size)
    return aux.labels(s.objects, s.image.shape[0], s.image.shape[1], lb, cfg.grid, cfg.mask_grid, every_object)


def test_token_labels_name_the_object_under_them():
    cfg = Config()
    for i in range(20):
        s = sample("train", i)
        y = _labels(s, cfg)
        tok = y["token_category"]
        assert tok.shape == (cfg.grid * cfg.grid,)
        named = {CATEGORY_NAMES[c - 1] for c in tok[tok > 0]}
        assert named <= {o["category"] for o in s.objects}
        assert (tok == 0).sum() > 0  # background exists: objects never fill the scene
        # the letterbox pads the bottom rows of a 4:3 scene: always background there
        assert (tok.reshape(cfg.grid, cfg.grid)[-1] == 0).all()
        assert y["objectness"].shape == (cfg.mask_grid, cfg.mask_grid)
        assert 0 <= y["objectness"].min() and y["objectness"].max() <= 1


def test_every_object_labels_small_objects_and_keeps_the_rest():
    cfg = Config()
    gained = 0
    for i in range(30):
        s = sample("train", i, framed=1.0)
        plain, every = _labels(s, cfg), _labels(s, cfg, every_object=True)
        for field in ("token_category", "token_colour", "token_texture"):
            kept = plain[field] != aux.IGNORE
            assert (every[field][kept] == plain[field][kept]).all()  # only ignored tokens change
        new = (plain["token_category"] == aux.IGNORE) & (every["token_category"] != aux.IGNORE)
        assert (every["token_category"][new] > 0).all()  # and they name an object, never background
        gained += int(new.sum())
        # an object alone on the token it covers most names that token, however small it is
        _, lb = preprocess.to_input(s.image, cfg.input_size, cfg.input_size)
        h, w = s.image.shape[:2]
        covers = [aux._pool(preprocess.mask_to_input(rasterize_polygons([o["polygon"]], h, w), lb), cfg.grid).ravel() for o in s.objects]
        for o, cover in zip(s.objects, covers):
            t = cover.argmax()
            alone = all(c[t] == 0 for c in covers if c is not cover)
            if alone and cover[t] >= aux.TOKEN_MISS:
                assert every["token_category"][t] == CATEGORY_NAMES.index(o["category"]) + 1
    assert gained > 0  # framed scenes hold objects smaller than any token


def test_target_labels_are_the_target_or_none_when_empty():
    seen_empty = seen_target = False
    for i in range(60):
        s = sample("train", i)
        y = _labels(s)
        if s.empty:
            seen_empty = True
            assert int(y["target_category"]) == 0 and int(y["target_colour"]) == 0
        else:
            seen_target = True
            t = next(o for o in s.objects if o["is_target"])
            assert CATEGORY_NAMES[int(y["target_category"]) - 1] == t["category"]
    assert seen_empty and seen_target


def test_heads_loss_is_finite_and_decreases():
    torch.manual_seed(0)
    cfg = Config(reasoner_layers=1, decoder_layers=1)
    model = AnchorSeg(cfg)
    heads = aux.AuxHeads(cfg.dim, cfg.mask_dim)
    samples = [sample("train", i) for i in range(8)]
    px = torch.from_numpy(np.concatenate([preprocess.to_input(s.image, cfg.input_size, cfg.input_size)[0] for s in samples]))
    ys = [_labels(s, cfg) for s in samples]
    y = {k: torch.from_numpy(np.stack([np.asarray(v[k]) for v in ys])) for k in ys[0]}
    ids = torch.zeros(8, cfg.text_len, dtype=torch.int64)
    gm = torch.ones(8, cfg.text_len)
    opt = torch.optim.Adam(list(model.parameters()) + list(heads.parameters()), lr=2e-3)
    losses = []
    for _ in range(15):
        _, (tokens, feats, bank) = model(px, ids, gm, return_states=True)
        loss, parts = heads.loss(tokens, feats, bank[:, -1], y)
        assert torch.isfinite(loss) and set(parts) >= {"aux_token_category", "aux_target_colour", "aux_objectness"}
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.7 * losses[0]
