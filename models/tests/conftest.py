"""Single-threaded numpy and torch for the tests, before any test module imports them.

On a shared 2-core machine OpenBLAS and torch's pools spin against each other and against other
processes (see anchorseg/__init__.py and the training notes in README.md): one thread is faster.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import torch

torch.set_num_threads(1)
