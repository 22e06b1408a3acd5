"""Gradient Lab's core: Keras networks measured layer by layer. Never imports streamlit.

`ModelSpec` is cheap to import; everything that needs TensorFlow is loaded on first use,
so that the app's home page appears before TensorFlow has loaded.
"""
from .spec import ModelSpec

__all__ = ["ModelSpec", "GradientFlowCallback", "profile", "summarize", "train"]


def profile(spec):
    """Per-layer table of one real forward and backward pass (see core.per_layer)."""
    from .per_layer import profile as compute
    return compute(spec)


def summarize(table, column="signal_grad_norm"):
    from .summary import summarize as compute
    return compute(table, column)


def train(model_spec, training_spec, on_step=None):
    """Train a Keras network, recording every layer at every step (see core.training)."""
    from .training import train as run
    return run(model_spec, training_spec, on_step)


def __getattr__(name):
    """core.GradientFlowCallback, imported (with TensorFlow) on first use."""
    if name == "GradientFlowCallback":
        from .callback import GradientFlowCallback
        return GradientFlowCallback
    raise AttributeError(f"module 'core' has no attribute {name!r}")
