"""Synthetic data domains: registry, graph models, mechanisms, and the dataset file format."""

from avici_core.data.registry import DomainSpec, get_domain, load_registry
from avici_core.data.simulate import (
    Draw,
    dataset_rng,
    draw_dataset,
    generate_dataset,
    simulate_data,
)
from avici_core.dataset import (
    Dataset,
    check_observations,
    load_dataset,
    save_dataset,
    select_setting,
)

__all__ = [
    "Dataset",
    "DomainSpec",
    "Draw",
    "check_observations",
    "dataset_rng",
    "draw_dataset",
    "generate_dataset",
    "get_domain",
    "load_dataset",
    "load_registry",
    "save_dataset",
    "select_setting",
    "simulate_data",
]
