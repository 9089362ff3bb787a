"""AVICI in JAX/haiku: network, loss, checkpoints, inference and training."""

from avici_core.model.api import AviciModel, load_model
from avici_core.model.network import ModelConfig

__all__ = ["AviciModel", "ModelConfig", "load_model"]
