"""FLOPs per engine, counted on the graph a bundle holds."""

import torch

from anchorseg.cost import flops
from anchorseg.model import AnchorSeg, Config


def test_the_inference_graph_counts_fewer_flops_where_it_re_expresses_the_engines(tmp_path):
    cfg = Config(vocab_size=24, text_len=8)
    torch.save({"config": cfg.to_dict(), "state": AnchorSeg(cfg).state_dict()}, tmp_path / "ck.pt")
    modules, inference = flops(tmp_path / "ck.pt", "modules"), flops(tmp_path / "ck.pt", "inference")
    assert inference["vision"] == modules["vision"] > 0  # traced as trained in both
    # the reasoner's last layer on the query rows only; the decoder's image never projected
    assert 0 < inference["reasoner"] < modules["reasoner"]
    assert 0 < inference["decoder"] < modules["decoder"]
