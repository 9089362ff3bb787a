"""avici_core: amortized causal discovery (AVICI in JAX/Haiku) and its benchmark pipeline."""

from avici_core.data import simulate_data

__all__ = ["load_model", "simulate_data"]


def __getattr__(name: str):
    # load_model imports JAX; keep `import avici_core` light for data-only use.
    if name == "load_model":
        from avici_core.model import load_model

        return load_model
    raise AttributeError(f"module 'avici_core' has no attribute {name!r}")
