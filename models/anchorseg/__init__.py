"""AnchorSeg at small scale: model, ReasonSeg-Synth data, training, export, evaluation."""

import os

# numpy's OpenBLAS threads spin against torch's OpenMP pool: small matrix products in the
# preprocessing go from 0.3 ms to ~100 ms with both active. Our numpy work is tiny; keep it serial.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
