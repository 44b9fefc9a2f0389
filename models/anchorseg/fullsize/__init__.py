"""The full-size AnchorSeg (LLaVA-1.5 + CLIP + SAM, the reference release) as a three-engine bundle."""
