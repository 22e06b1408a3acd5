"""A zoo of architectures built from Keras layers with random initial weights.

`ZooSpec` is the one frozen, validated description (its field metadata feeds the CLI's
`flow` flags and the Your network page). `build(spec)` returns a real keras.Model: it
can be measured with core.flow, fitted, saved and loaded. Nothing is downloaded:
`keras.applications` models are built with weights=None.

Layer names say where a layer sits (block_1_attention, stage_2_block_1_conv_1,
hidden_3); every model ends in a layer named `readout`. The builders below are plain
Keras functions of plain arguments, so that "Show the Keras code" can print them.
Initializers without a seed draw theirs from Python's `random`, which `build` seeds for
the duration of the build, so the same spec always gives the same weights.
"""
from __future__ import annotations

import random
import threading
from dataclasses import dataclass

from .spec import Spec, ModelSpec, spec_field as _f

OWN = ("mlp", "plain_cnn", "resnet", "transformer_post_ln", "transformer_pre_ln", "lstm")
APPLICATIONS = {"vgg16": "VGG16", "resnet50": "ResNet50", "mobilenet_v2": "MobileNetV2",
                "densenet121": "DenseNet121", "efficientnet_b0": "EfficientNetB0"}
ARCHITECTURES = OWN + tuple(APPLICATIONS)
CNN = ("plain_cnn", "resnet")
TRANSFORMERS = ("transformer_post_ln", "transformer_pre_ln")
IMAGES = CNN + tuple(APPLICATIONS)
SEQUENCES = TRANSFORMERS + ("lstm",)
SKIPPED = ("mlp", "resnet") + TRANSFORMERS  # the architectures with skip connections
# depth and width when the spec leaves them None
DEFAULT_DEPTH = {"mlp": 20, "plain_cnn": 20, "resnet": 20, "lstm": 4}
DEFAULT_WIDTH = {"mlp": 128, "plain_cnn": 16, "resnet": 16, "lstm": 64}
MAX_LSTM_LAYERS = 16
READOUT_UNITS = 10  # the image and vector models' readout Dense(10)
# The mlp takes every ModelSpec field the zoo spec does not already have.
SHARED_WITH_MODEL = ("depth", "width", "batch_size", "seed", "batch_norm",
                     "residual_scale")
MLP_FIELDS = tuple(name for name in ModelSpec.field_map()
                   if name not in SHARED_WITH_MODEL + ("dtype",))


@dataclass(frozen=True)
class ZooSpec(Spec):
    """One architecture of the zoo, its size and the batch it is measured on."""
    architecture: str = _f("resnet", "the architecture", choices=ARCHITECTURES, kind=str)
    depth: int | None = _f(None, "mlp: hidden layers (default 20); plain_cnn, resnet: "
                           "layers, 6n+2 (default 20); lstm: LSTM layers (default 4)",
                           low=1, high=200, kind=int)
    width: int | None = _f(None, "mlp: units (default 128); plain_cnn, resnet: filters "
                           "of the first stage, doubled at each of 3 stages (default 16); "
                           "lstm: units (default 64)", low=2, high=512, kind=int)
    batch_norm: bool = _f(False, "mlp, plain_cnn, resnet: batch normalization after "
                          "every dense or convolution layer", kind=bool)
    residual_scale: float = _f(1.0, "mlp (with --residual), resnet, transformers: every "
                               "skip adds its branch scaled, x + residual_scale x "
                               "branch(x) (post-LN: LayerNorm(x + residual_scale x "
                               "sublayer(x))); 1 is the plain skip, 1/sqrt(L) (L skipped "
                               "blocks) keeps the forward variance O(1), 0 makes every "
                               "skipped block the identity at initialization "
                               "(SkipInit/ReZero); fixed, not trained; other "
                               "architectures ignore it", low=0.0, high=10.0, kind=float)
    blocks: int = _f(6, "transformers: encoder blocks", low=1, high=48, kind=int)
    d_model: int = _f(64, "transformers: model width (attention and residual stream)",
                      low=8, high=512, kind=int)
    heads: int = _f(4, "transformers: attention heads (must divide d_model)", low=1,
                    high=16, kind=int)
    seq_len: int = _f(16, "transformers, lstm: sequence length", low=2, high=256,
                      kind=int)
    image_size: int = _f(32, "image models: height and width of the input images",
                         low=32, high=224, kind=int)
    batch_size: int = _f(8, "examples in the batch", low=1, high=256, kind=int)
    seed: int = _f(0, "random seed for weights, inputs and targets", low=0,
                   high=2 ** 31 - 1, kind=int)

    def __post_init__(self):
        super().__post_init__()
        if self.architecture in CNN and (self.layers < 8 or (self.layers - 2) % 6):
            raise ValueError(f"depth of {self.architecture} must be 6n+2 (8, 14, 20, 32, "
                             f"56, 110, ...), got {self.layers}")
        if self.architecture == "lstm" and self.layers > MAX_LSTM_LAYERS:
            raise ValueError(f"depth of lstm must be at most {MAX_LSTM_LAYERS} layers")
        if self.architecture in TRANSFORMERS and self.d_model % self.heads:
            raise ValueError(f"heads ({self.heads}) must divide d_model ({self.d_model})")
        if self.architecture == "mlp":
            self.model_spec()  # ModelSpec's own budget checks

    @property
    def layers(self) -> int:
        return self.depth or DEFAULT_DEPTH.get(self.architecture, 0)

    @property
    def units(self) -> int:
        return self.width or DEFAULT_WIDTH.get(self.architecture, 0)

    def model_spec(self, **mlp_fields) -> ModelSpec:
        """The mlp's ModelSpec: this spec's depth, width, batch, seed, batch norm and
        residual scale, then any ModelSpec field given (activation, init, residual,
        ...; one given here wins)."""
        shared = dict(depth=self.layers if self.architecture == "mlp" else 20,
                      width=self.units if self.architecture == "mlp" else 128,
                      batch_size=self.batch_size, seed=self.seed,
                      batch_norm=self.batch_norm, residual_scale=self.residual_scale)
        return ModelSpec(**{**shared, **mlp_fields})

    def describe(self, mlp: ModelSpec | None = None) -> str:
        """The architecture and its size, in a few words (chart titles and legends);
        the skips' scale when it is not 1 and the model has skips (`mlp`: the mlp's
        ModelSpec, whose `residual` says whether it has)."""
        a = self.architecture
        if a in TRANSFORMERS:
            words = f"{a}, {self.blocks} blocks x {self.d_model}"
        elif a in CNN:
            words = f"{a}-{self.layers}" + (" + BN" if self.batch_norm else "")
        elif a in ("mlp", "lstm"):
            words = f"{a}, {self.layers} x {self.units}" + (
                " + BN" if self.batch_norm and a == "mlp" else "") + (
                " + skips" if a == "mlp" and skip_count(self, mlp) else "")
        else:
            words = f"{a}, {self.image_size}x{self.image_size}"
        if self.residual_scale != 1 and skip_count(self, mlp):
            words += f", β = {self.residual_scale:.3g}"
        return words


def skip_count(spec: ZooSpec, mlp: ModelSpec | None = None) -> int:
    """L, the skip connections of the spec's model (each adds a branch scaled by
    residual_scale): the mlp's hidden layers 2..depth when `mlp` (default
    spec.model_spec()) is residual, the resnet's 3n blocks, two per transformer block
    (attention and feed-forward); 0 for the others."""
    a = spec.architecture
    if a == "mlp":
        model = mlp or spec.model_spec()
        return model.depth - 1 if model.residual else 0
    if a == "resnet":
        return (spec.layers - 2) // 2
    return 2 * spec.blocks if a in TRANSFORMERS else 0


_build_lock = threading.Lock()


def build(spec: ZooSpec, mlp: ModelSpec | None = None):
    """The spec's keras.Model, with the same weights every time for the same spec.
    `mlp`: the mlp's full ModelSpec (default spec.model_spec())."""
    from . import zoo_models as models
    with _build_lock:
        state = random.getstate()
        random.seed(spec.seed)  # the default seeds of unseeded initializers
        try:
            return models.build_model(spec, mlp or spec.model_spec())
        finally:
            random.setstate(state)


def flow_of(spec: ZooSpec, mlp: ModelSpec | None = None):
    """core.flow of the zoo model (cached by core.cache; the model is not kept)."""
    return _flow_of(spec, mlp or (spec.model_spec() if spec.architecture == "mlp"
                                  else None))


# Built models kept for their next seed (core.reseed draws its weights into them), most
# recently used last, up to KEPT_WEIGHTS weights in all: one process-wide pool, not per
# session. A request takes its model out of the pool while it measures it (no other
# request uses it meanwhile) and puts it back after.
KEPT_WEIGHTS = 32_000_000  # ResNet50 (25.6M) and DenseNet121 (8M) at 64 px, about
_kept: dict = {}
_kept_lock = threading.Lock()


def _family(spec: ZooSpec) -> ZooSpec:
    """What the model depends on: everything but the seed and the batch."""
    return spec.replace(seed=0, batch_size=1)


def _take(spec: ZooSpec, mlp: ModelSpec | None):
    """(model, reseeder or None): a kept model of the family reseeded, else a build.
    The mlp (weights from core.weights, cheap to build) is always built."""
    if spec.architecture == "mlp":
        return build(spec, mlp), None
    from .reseed import Reseeder
    with _kept_lock:
        reseeder = _kept.pop(_family(spec), None)
    if reseeder is not None and reseeder.reseed(spec.seed):
        return reseeder.model, reseeder
    model = build(spec)
    return model, Reseeder(model, spec.seed)


def _give_back(spec: ZooSpec, reseeder) -> None:
    if reseeder is None or not reseeder.ok:
        return
    with _kept_lock:
        _kept[_family(spec)] = reseeder
        while sum(kept.model.count_params() for kept in _kept.values()) > KEPT_WEIGHTS:
            del _kept[next(iter(_kept))]  # the least recently used


def forget_models() -> None:
    """Drop every kept model (tests and memory benchmarks)."""
    with _kept_lock:
        _kept.clear()


def _flow(spec: ZooSpec, mlp: ModelSpec | None):
    import time
    from .flow import flow
    start = time.perf_counter()
    from .user_model import check_budget
    model, reseeder = _take(spec, mlp)
    try:
        check_budget(model, spec.batch_size)
        built = time.perf_counter()
        if spec.architecture == "mlp":  # the profile's data: flow gives its numbers
            from .weights import make_data
            table = flow(model, *make_data(mlp))
        else:
            table = flow(model, batch_size=spec.batch_size, seed=spec.seed)
    except BaseException:
        reseeder = None  # measured half-way: not kept
        raise
    finally:
        _give_back(spec, reseeder)
    table.attrs.update(build_seconds=built - start,
                       flow_seconds=time.perf_counter() - built,
                       total_params=int(model.count_params()))
    return table


def _memoized():
    from .cache import memoize
    return memoize(entries=16)(_flow)


_flow_of = _memoized()
