"""Baselines behind one contract: ``run(method, data, interv_mask, hparams, seed, timeout_s)``.

Each method is a small wrapper registered by name (``implementations.register``) in a family
module; ``config/methods.yaml`` maps method ids to implementations, hyper-parameters and resources.
"""

from avici_core.baselines.runner import run
from avici_core.prediction import (
    MethodOutput,
    Prediction,
    load_prediction,
    save_prediction,
)

__all__ = ["MethodOutput", "Prediction", "load_prediction", "run", "save_prediction"]
