"""Slides: each topic page's sections as a deck of saved views, and their precompute.

A slide is one of a page's sections (its heading) and the page's settings for it, by the
pages' URL names (the spec field names); settings a slide leaves out are at the page's
defaults. `query(slide)` is the URL query that opens the view. `compute(deck, index)`
makes the same cached core calls as the page does for that view, so that once it has
run the page answers from core.cache; `precompute(deck)` does it for every slide in a
background thread, reporting progress. Pure data and threads: no Streamlit, no Altair.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Slide:
    section: str  # the page's heading this slide is about (as the page spells it)
    title: str  # what the slide shows, in a few words
    settings: dict = field(default_factory=dict)  # URL name -> value; others at default

    def __hash__(self):
        return hash((self.section, self.title, tuple(sorted(self.settings))))


@dataclass(frozen=True)
class Deck:
    name: str  # the page's name: its Controls scope and its file pages/<name>.py
    title: str
    slides: tuple

    @property
    def page(self) -> str:
        return f"pages/{self.name}.py"


def _encode(value) -> str | list[str]:
    if isinstance(value, (list, tuple)):
        return [str(one) for one in value]
    if isinstance(value, float):
        return format(value, ".12g")
    return str(value)


def query(slide: Slide) -> dict[str, str | list[str]]:
    """The URL query of a slide's view (values as pages/controls.py writes them)."""
    return {name: _encode(value) for name, value in slide.settings.items()}


S = Slide
DECKS = {deck.name: deck for deck in (
    Deck("problem", "The problem: gradients multiply", (
        S("The problem: gradients multiply", "a = 1.5 through 50 layers"),
        S("The problem: gradients multiply", "a = 0.5 through 50 layers", {"gain": 0.5}),
        S("The problem: gradients multiply", "a = 1: the signal passes unchanged",
          {"gain": 1.0}),
        S("The problem: gradients multiply", "a = 1.5 through 150 layers, float32",
          {"depth": 150}),
        S("The problem: gradients multiply", "The same in float64",
          {"depth": 150, "dtype": "float64"}),
        S("The problem: gradients multiply", "a = 0.5 through 150 layers, float32",
          {"depth": 150, "gain": 0.5}),
        S("The problem: gradients multiply", "float16: ‖h_l‖ passes 65504 at layer 19",
          {"dtype": "float16"}),
        S("Not only identity matrices", "tanh, N(0, 0.05²) weights (Keras' default)"),
        S("Not only identity matrices", "tanh, N(0, 0.3²) weights", {"stddev": 0.3}),
    )),
    Deck("why", "Why it happens", (
        S("1. Activations and their slopes", "z from −5 to 5"),
        S("1. Activations and their slopes", "z from −15 to 15: the flat tails",
          {"z_range": 15.0}),
        S("2. Glorot & Bengio's experiment, live", "sigmoid, 8 layers"),
        S("2. Glorot & Bengio's experiment, live", "tanh, 8 layers",
          {"gb_activation": "tanh"}),
        S("3. Variance propagation, with theory overlaid", "tanh, random_normal, depth 30"),
        S("3. Variance propagation, with theory overlaid", "tanh, glorot_normal",
          {"init": "glorot_normal"}),
        S("3. Variance propagation, with theory overlaid", "relu, he_normal",
          {"activation": "relu", "init": "he_normal"}),
        S("4. Every direction, not only the average: the Jacobian spectrum",
          "linear: orthogonal is exactly isometric, Gaussian spreads"),
        S("4. Every direction, not only the average: the Jacobian spectrum",
          "tanh near the critical line", {"jacobian_activation": "tanh"}),
        S("4. Every direction, not only the average: the Jacobian spectrum",
          "ReLU cannot be isometric", {"jacobian_activation": "relu"}),
    )),
    Deck("initialization", "Initialization", (
        S("1. The formulas", "n_in = n_out = 128"),
        S("1. The formulas", "n_in = 512, n_out = 128: the two He formulas part",
          {"n_in": 512}),
        S("2. Side by side", "relu: Glorot beside He"),
        S("2. Side by side", "tanh: Glorot beside He", {"activation": "tanh"}),
        S("The amplifier chain", "relu: four initializations",
          {"inits": ["glorot_normal", "he_normal", "lecun_normal", "orthogonal"]}),
        S("3. Matched pairs", "every initialization with every activation, depth 50"),
        S("4. The Goldilocks zone", "σ_w swept for tanh and ReLU, depth 30"),
        S("5. One seed is not the whole story",
          "100 seeds of a ReLU net, width 16, depth 20"),
        S("5. One seed is not the whole story",
          "depth 50: width 128 predictable, 8 a lottery",
          {"seeds_depth": 50, "seeds_width": 8}),
        S("6. Every direction, not only the average: the Jacobian spectrum",
          "orthogonal or Gaussian: a linear network's spectrum"),
    )),
    Deck("phase", "Phase diagram", (
        S("1. Order, chaos and the edge between", "tanh, depth 50: the measured diagram"),
        S("1. Order, chaos and the edge between", "tanh at the edge: σ_w² = 1, σ_b² = 0",
          {"sigma_w2": 1.0, "sigma_b2": 0.0}),
        S("1. Order, chaos and the edge between", "ReLU: critical at σ_w² = 2, any bias",
          {"activation": "relu"}),
    )),
    Deck("activations", "Activations", (
        S("Each activation and its derivative", "Leaky ReLU with slope 0.01"),
        S("Each activation and its derivative", "Slope 0: Leaky ReLU is ReLU",
          {"negative_slope": 0.0}),
        S("Each activation and its derivative", "Slope 0.3", {"negative_slope": 0.3}),
        S("Born dead", "ReLU networks dead at initialization, depth 50"),
        S("Born dead", "depth 200: about half of width-8 networks dead",
          {"dead_depth": 200}),
        S("Dying ReLU, live", "ReLU at learning rate 0.5 (press Train)"),
        S("Dying ReLU, live", "Leaky ReLU at learning rate 0.5 (press Train)",
          {"activation": "leaky_relu"}),
    )),
    Deck("remedies", "Remedies", (
        S("Remedies: what fixes vanishing and exploding gradients",
          "The vanishing baseline and its remedies, before training (press Train)"),
        S("Remedies: what fixes vanishing and exploding gradients",
          "The exploding baseline and its remedies, before training (press Train)",
          {"scenario": "exploding"}),
        S("Residual scaling: h + β·branch(h)", "β = 1, 1/√L, 0 on a linear branch, beside "
          "(1 + β²)^(L−1)"),
        S("Residual scaling: h + β·branch(h)", "A ReLU branch grows faster than the theory",
          {"residual_branch": "relu"}),
        S("Half precision: gradients that underflow for real, and loss scaling",
          "float32, mixed_float16 and LossScaleOptimizer (press Train)"),
        S("Glorot & Bengio's Figure 2, reproduced", "Sigmoid vs tanh while training "
          "(press Train)"),
    )),
    Deck("through_time", "Through time (RNNs)", (
        S("Through time: recurrent networks", "SimpleRNN, orthogonal gain 1, T = 50"),
        S("Through time: recurrent networks", "Recurrent gain 0.9", {"gain": 0.9}),
        S("Through time: recurrent networks", "Recurrent gain 1.1", {"gain": 1.1}),
        S("Through time: recurrent networks", "SimpleRNN, T = 200", {"steps": 200}),
        S("Do gates keep the gradient alive?", "SimpleRNN, LSTM and GRU, T = 200",
          {"steps": 200}),
        S("What does keep an LSTM's gradient alive: an open forget gate",
          "LSTM, forget-gate bias 0", {"cell": "lstm", "forget_bias": 0.0}),
        S("Clipping in action", "Clipping at gain 1.5 (press Train)"),
    )),
)}
del S

# The pages' defaults for the settings compute() reads (tests/test_slides.py checks
# them against the pages' own declarations).
DEFAULTS = {
    "problem": {"depth": 50, "gain": 1.5, "dtype": "float32", "activation": "tanh",
                "stddev": 0.05},
    "why": {"z_range": 5.0, "gb_activation": "sigmoid", "gb_depth": 8,
            "activation": "tanh", "init": "random_normal", "depth": 30, "width": 128,
            "jacobian_activation": "linear"},
    "initialization": {"n_in": 128, "n_out": 128, "activation": "relu", "depth": 30,
                       "inits": ["glorot_normal", "he_normal"], "grid_depth": 50,
                       "sweep_depth": 30, "seeds_depth": 20, "seeds_width": 16,
                       "seeds_init": "he_normal", "jacobian_activation": "linear"},
    "phase": {"activation": "tanh", "depth": 50, "width": 128, "sigma_w2": 2.0,
              "sigma_b2": 0.05},
    "activations": {"negative_slope": 0.01, "dead_depth": 50},
    "remedies": {"scenario": "vanishing", "residual_branch": "linear", "residual_depth": 20,
                 "residual_scale": ["1", "1/sqrt(L)", "0"]},
    "through_time": {},  # core.through_time.ThroughTimeSpec's defaults
}
THROUGH_TIME_FIELDS = ("cell", "activation", "recurrent_init", "gain", "steps", "units",
                       "forget_bias", "stddev", "seed")
INIT_WIDTH = 128  # pages/initialization.py's WIDTH
BORN_DEAD_SEEDS = 500  # pages/born_dead_section.py's SEEDS


def _problem(values):
    from .experiments.problem import identity_spec
    from .per_layer import profile
    from .spec import ModelSpec
    profile(identity_spec(values["depth"], values["gain"], values["dtype"]))
    profile(ModelSpec(depth=values["depth"], width=128, batch_size=128,
                      activation=values["activation"], init="random_normal",
                      stddev=values["stddev"], dtype=values["dtype"]))


def _why(values):
    from .experiments import why
    why.slope_curves(reach=values["z_range"])
    why.glorot_bengio(values["gb_activation"], values["gb_depth"])
    why.variance_propagation(values["activation"], values["init"], values["depth"],
                             values["width"])
    _jacobian(values)


def _initialization(values):
    from .experiments import initialization
    from .spec import ModelSpec
    initialization.formula_table(int(values["n_in"]), int(values["n_out"]))
    if values["inits"]:
        base = ModelSpec(depth=values["depth"], width=INIT_WIDTH, batch_size=128,
                         activation=values["activation"])
        initialization.compare(base, tuple(values["inits"]))
    initialization.grid(depth=values["grid_depth"], width=INIT_WIDTH)
    initialization.sweep(depth=values["sweep_depth"], width=INIT_WIDTH)
    from .finite_width import FiniteWidthSpec, PAGE_SEEDS, spread_over_widths
    spread_over_widths(FiniteWidthSpec(
        seeds=PAGE_SEEDS, depth=values["seeds_depth"], width=values["seeds_width"],
        init=values["seeds_init"]))
    _jacobian(values)


def _jacobian(values):
    """pages/jacobian_section.py (Why it happens, Initialization)."""
    from .experiments import phase
    phase.isometry(values["jacobian_activation"])


def _born_dead(values):
    """pages/born_dead_section.py (Activations)."""
    from . import born_dead
    born_dead.over_widths(born_dead.BornDeadSpec(depth=values["dead_depth"],
                                                 seeds=BORN_DEAD_SEEDS))


def _phase(values):
    from .experiments import phase
    from .per_layer import profile
    spec = phase.PhaseSpec(activation=values["activation"], depth=values["depth"],
                           width=values["width"], sigma_w2=phase.PAGE_SIGMA_W2,
                           sigma_b2=phase.PAGE_SIGMA_B2)
    phase.phase_grid(spec)
    phase.theory_lines(values["activation"], max(phase.PAGE_SIGMA_B2))
    profile(spec.network(values["sigma_w2"], values["sigma_b2"]).replace(batch_size=128))


def _activations(values):
    from .experiments import activations
    activations.curves(values["negative_slope"])
    _born_dead(values)


def _remedies(values):
    from .experiments import remedies, residual_scaling
    remedies.before_training(values["scenario"])
    residual_scaling.measure(values["residual_branch"], values["residual_depth"],
                             values["residual_scale"])


def _through_time(values):
    from .experiments import through_time as experiments
    from .through_time import ThroughTimeSpec
    experiments.measure(ThroughTimeSpec(**{name: values[name] for name in values
                                           if name in THROUGH_TIME_FIELDS}))


COMPUTE = {"problem": _problem, "why": _why, "initialization": _initialization,
           "phase": _phase, "activations": _activations, "remedies": _remedies,
           "through_time": _through_time}


def settings(deck: Deck, index: int) -> dict:
    """Every setting compute() reads for slide `index`: the slide's, else the page's
    default."""
    return {**DEFAULTS[deck.name], **deck.slides[index].settings}


def compute(deck: Deck, index: int) -> None:
    """The page's cached results for slide `index` (afterwards the page answers from
    core.cache)."""
    COMPUTE[deck.name](settings(deck, index))


class Precompute:
    """Every slide of a deck computed in a background thread, `first` slide first.

    `ready` and `failed` (index -> message) fill as it goes; `done()` is True when
    every slide is ready or failed. A slide that fails is reported, not retried (the
    page shows its own message when it is opened)."""

    def __init__(self, deck: Deck, first: int = 0):
        self.deck, self.total = deck, len(deck.slides)
        self.order = [(first + step) % self.total for step in range(self.total)]
        self.ready: set[int] = set()
        self.failed: dict[int, str] = {}
        self._lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, daemon=True,
                                       name=f"gradient-lab-slides-{deck.name}")

    def _run(self) -> None:
        for index in self.order:
            try:
                compute(self.deck, index)
            except Exception as error:  # noqa: BLE001 - reported, and the deck goes on
                with self._lock:
                    self.failed[index] = f"{type(error).__name__}: {error}"
                continue
            with self._lock:
                self.ready.add(index)

    def progress(self) -> tuple[int, int]:
        """(slides finished, ready or failed; slides in the deck)."""
        with self._lock:
            return len(self.ready) + len(self.failed), self.total

    def done(self) -> bool:
        finished, total = self.progress()
        return finished == total


_jobs: dict[str, Precompute] = {}
_jobs_lock = threading.Lock()


def precompute(name: str, first: int = 0) -> Precompute:
    """Start computing deck `name` in the background, unless it is computing already;
    the job (one per deck and process, shared by every session). A finished job is
    started again: each slide then takes only a cache look-up, unless the cache has
    dropped it since."""
    with _jobs_lock:
        job = _jobs.get(name)
        if job is None or (job.done() and not job.thread.is_alive()):
            job = _jobs[name] = Precompute(DECKS[name], first)
            job.thread.start()
        return job


def job(name: str) -> Precompute | None:
    """The deck's last precompute job in this process, if any."""
    with _jobs_lock:
        return _jobs.get(name)
