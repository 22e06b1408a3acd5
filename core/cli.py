"""python -m core COMMAND [flags]: every computation of the app, from a terminal.

Flags are the ModelSpec field names with dashes (--negative-slope, --no-bias). A bad
value exits with status 2 and one line naming the flag and what it accepts.
"""
from __future__ import annotations

import argparse
import math
import sys

import pandas as pd

from .cli_args import (Parser, UsageError, add_format_argument, add_spec_arguments,
                       emit, flag, spec_from_args)
from .spec import ModelSpec

# command -> help. Each command NAME has two functions below, in its own section:
# _NAME_arguments(parser) and _NAME_run(args) -> DataFrame (dashes become underscores).
# They import the engine only when their command runs, so --help stays fast.
COMMANDS = {
    "profile": "per-layer activations and gradients of one network",
    "grid": "initialization x activation grid of signal ratios",
    "sweep": "signal ratio against the weight scale sigma_w",
    "train": "train a network and record every layer at every step (divergence: a report)",
    "through-time": "gradient through time in a recurrent network",
    "phase": "the phase diagram: signal ratio over (sigma_w2, sigma_b2), with theory",
    "jacobian": "singular values of the input-output Jacobian dh_L/dx at one input",
    "flow": "per-layer gradient flow of a zoo architecture or a saved .keras model",
    "born-dead": "how often a ReLU network is dead at initialization, with theory",
    "seeds": "forward and backward signal gain of one network over many seeds",
    "code": "the Keras script of one network: run, it prints what `profile` prints",
}


def _functions(command: str):
    name = command.replace("-", "_")
    return globals()[f"_{name}_arguments"], globals()[f"_{name}_run"]


def build_parser(command: str | None = None) -> Parser:
    parser = Parser(prog="python -m core", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        if name == command:
            _functions(name)[0](command_parser)
    return parser


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv and argv[0] in COMMANDS else None
    try:
        parser = build_parser(command)
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        table = _functions(args.command)[1](args)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    sys.stdout.write(table) if isinstance(table, str) else emit(table, args.format)
    return 0


# ---- profile: core.per_layer ---------------------------------------------------------

def _profile_arguments(parser: argparse.ArgumentParser) -> None:
    add_spec_arguments(parser)
    add_format_argument(parser)


def _profile_run(args: argparse.Namespace) -> pd.DataFrame:
    spec = spec_from_args(args)  # validate before the slow TensorFlow import
    from .per_layer import profile
    return profile(spec)


# ---- grid and sweep: core.experiments.initialization ---------------------------------
# That module loads TensorFlow only when grid() or sweep() runs: its defaults are read
# here, and every flag is checked before TensorFlow loads.

def _csv_choices(text: str, allowed, name: str) -> tuple:
    items = tuple(item.strip() for item in text.split(",") if item.strip())
    bad = [item for item in items if item not in allowed]
    if bad or not items:
        raise UsageError(f"{flag(name)} must be a comma-separated list of "
                         f"{', '.join(allowed)} (got {text!r})")
    return items


def _network_arguments(parser: argparse.ArgumentParser, depth: int, batch_size: int):
    add_spec_arguments(parser, fields=("depth", "width", "seed"),
                       base=ModelSpec(depth=depth))
    parser.add_argument("--batch-size", dest="batch_size", default=None,
                        metavar="BATCH_SIZE",
                        help=f"examples per network (default {batch_size})")
    add_format_argument(parser)


def _network_options(args: argparse.Namespace, depth: int, batch_size: int) -> dict:
    """depth, width, seed and batch_size from the flags, checked."""
    spec = spec_from_args(args, fields=("depth", "width", "seed"),
                          base=ModelSpec(depth=depth))
    if args.batch_size is not None:
        try:
            batch_size = ModelSpec(batch_size=float(args.batch_size)).batch_size
        except ValueError:
            raise UsageError(f"--batch-size must be an integer from 1 to 2048 "
                             f"(got {args.batch_size!r})") from None
    try:
        ModelSpec(depth=spec.depth, width=spec.width, batch_size=batch_size)
    except ValueError as error:
        raise UsageError(str(error)) from None
    return dict(depth=spec.depth, width=spec.width, seed=spec.seed, batch_size=batch_size)


def _grid_arguments(parser: argparse.ArgumentParser) -> None:
    from .experiments.initialization import GRID_ACTIVATIONS, GRID_BATCH, GRID_INITS
    _network_arguments(parser, 50, GRID_BATCH)
    parser.add_argument("--inits", default=",".join(GRID_INITS),
                        help="comma-separated initializers (default: %(default)s)")
    parser.add_argument("--activations", default=",".join(GRID_ACTIVATIONS),
                        help="comma-separated activations (default: %(default)s)")


def _grid_run(args: argparse.Namespace) -> pd.DataFrame:
    from .experiments.initialization import GRID_BATCH, grid
    from .spec import ACTIVATIONS, INITS
    options = _network_options(args, 50, GRID_BATCH)
    inits = _csv_choices(args.inits, INITS, "inits")
    activations = _csv_choices(args.activations, ACTIVATIONS, "activations")
    return grid(inits=inits, activations=activations, **options)


def _sweep_arguments(parser: argparse.ArgumentParser) -> None:
    from .experiments.initialization import SWEEP_ACTIVATIONS, SWEEP_SIGMAS
    _network_arguments(parser, 30, 64)
    parser.add_argument("--activations", default=",".join(SWEEP_ACTIVATIONS),
                        help="comma-separated activations (default: %(default)s)")
    parser.add_argument("--sigmas", default=",".join(f"{s:g}" for s in SWEEP_SIGMAS),
                        help="comma-separated sigma_w values, each in (0, 10]")


def _sweep_run(args: argparse.Namespace) -> pd.DataFrame:
    from .experiments.initialization import sweep
    from .spec import ACTIVATIONS
    options = _network_options(args, 30, 64)
    activations = _csv_choices(args.activations, ACTIVATIONS, "activations")
    try:
        sigmas = tuple(float(s) for s in args.sigmas.split(",") if s.strip())
    except ValueError:
        sigmas = ()
    if not sigmas or not all(0 < s <= 10 and math.isfinite(s) for s in sigmas):
        raise UsageError(f"--sigmas must be a comma-separated list of numbers in (0, 10] "
                         f"(got {args.sigmas!r})")
    return sweep(activations=activations, sigmas=sigmas, **options)


# ---- train: core.training -----------------------------------------------------------
# Model flags are ModelSpec's fields but those training sets itself; training flags are
# TrainingSpec's. core.training loads TensorFlow only when train() runs.

def _train_model_fields() -> list[str]:
    from .training import MODEL_FIELDS_SET_BY_TRAINING
    return [name for name in ModelSpec.field_map() if name not in MODEL_FIELDS_SET_BY_TRAINING]


def _train_arguments(parser: argparse.ArgumentParser) -> None:
    from .training import DEFAULT_MODEL, TrainingSpec
    add_spec_arguments(parser, fields=_train_model_fields(), base=DEFAULT_MODEL)
    add_spec_arguments(parser, base=TrainingSpec())
    add_format_argument(parser)


def _train_run(args: argparse.Namespace) -> pd.DataFrame:
    from .training import DEFAULT_MODEL, TrainingSpec, check_budget, train
    model_spec = spec_from_args(args, fields=_train_model_fields(), base=DEFAULT_MODEL)
    training_spec = spec_from_args(args, base=TrainingSpec())
    try:
        check_budget(model_spec, training_spec)
    except ValueError as error:
        raise UsageError(str(error)) from None
    table = train(model_spec, training_spec)  # TensorFlow is imported only now
    from . import forensics
    found = forensics.report(table)
    if found:  # the report on stderr; with --format json, beside the rows too
        print(table.attrs["divergence"]["message"], file=sys.stderr)
        print(forensics.text(found), file=sys.stderr)
    table.attrs["json"] = {"forensics": forensics.to_json(found)}
    return table


# ---- through-time: core.through_time -------------------------------------------------

def _through_time_arguments(parser: argparse.ArgumentParser) -> None:
    from .through_time import ThroughTimeSpec
    add_spec_arguments(parser, base=ThroughTimeSpec())
    add_format_argument(parser)


def _through_time_run(args: argparse.Namespace) -> pd.DataFrame:
    from .through_time import ThroughTimeSpec, through_time  # light: TensorFlow loads
    spec = spec_from_args(args, base=ThroughTimeSpec())  # on the first computation
    table = through_time(spec)
    table["spectral_radius"] = table.attrs["spectral_radius"]
    table["largest_singular_value"] = table.attrs["largest_singular_value"]
    return table


# ---- phase: core.experiments.phase ---------------------------------------------------

def _phase_arguments(parser: argparse.ArgumentParser) -> None:
    from .experiments.phase import PhaseSpec
    add_spec_arguments(parser, base=PhaseSpec())
    add_format_argument(parser)


def _phase_run(args: argparse.Namespace) -> pd.DataFrame:
    from .experiments.phase import COLUMNS, PhaseSpec, phase_grid
    spec = spec_from_args(args, base=PhaseSpec())  # TensorFlow loads at the first point
    return phase_grid(spec)[COLUMNS]


# ---- jacobian: core.jacobian -----------------------------------------------------------

# One input: batch_size 1 by default (the first example of any batch is the same).
JACOBIAN_BASE = ModelSpec(batch_size=1)


def _jacobian_arguments(parser: argparse.ArgumentParser) -> None:
    add_spec_arguments(parser, base=JACOBIAN_BASE)
    add_format_argument(parser)


def _jacobian_run(args: argparse.Namespace) -> pd.DataFrame:
    from .jacobian import check, spectrum  # light: TensorFlow loads in spectrum()
    spec = spec_from_args(args, base=JACOBIAN_BASE)
    try:
        check(spec)
    except ValueError as error:
        raise UsageError(str(error)) from None
    return spectrum(spec)


# ---- flow: core.flow on core.zoo's models or a saved .keras file ---------------------
# ZooSpec's flags, plus the ModelSpec flags the mlp takes (core.zoo.MLP_FIELDS).

def _flow_arguments(parser: argparse.ArgumentParser) -> None:
    from .zoo import MLP_FIELDS, ZooSpec
    add_spec_arguments(parser, base=ZooSpec())
    group = parser.add_argument_group("mlp only (the model spec's flags)")
    add_spec_arguments(group, fields=MLP_FIELDS)
    parser.add_argument("--model", default=None, metavar="PATH",
                        help="measure this .keras file instead (loaded in Keras' safe "
                             "mode; random N(0, 1) inputs of its input shape)")
    add_format_argument(parser)


def _flow_run(args: argparse.Namespace) -> pd.DataFrame:
    from .zoo import MLP_FIELDS, ZooSpec
    given = [name for name in ZooSpec.field_map() if getattr(args, name) not in (None, False)]
    if args.model is not None:
        extra = [name for name in given + list(MLP_FIELDS)
                 if name not in ("batch_size", "seed") and getattr(args, name) not in
                 (None, False)]
        if extra:
            raise UsageError(f"{flag(extra[0])} does not apply to --model (only "
                             "--batch-size and --seed do)")
        spec = spec_from_args(args, fields=("batch_size", "seed"), base=ZooSpec())
        return _flow_of_file(args.model, spec.batch_size, spec.seed)
    spec = spec_from_args(args, base=ZooSpec())
    mlp_flags = [name for name in MLP_FIELDS if getattr(args, name) not in (None, False)]
    if mlp_flags and spec.architecture != "mlp":
        raise UsageError(f"{flag(mlp_flags[0])} applies only to --architecture mlp")
    mlp = None
    if spec.architecture == "mlp":
        mlp = spec_from_args(args, fields=MLP_FIELDS, base=spec.model_spec())
    from .user_model import ModelRefused
    from .zoo import flow_of
    try:
        return flow_of(spec, mlp)
    except ModelRefused as error:
        raise UsageError(str(error)) from None


def _flow_of_file(path: str, batch_size: int, seed: int) -> pd.DataFrame:
    import os
    if not os.path.isfile(path):
        raise UsageError(f"--model: no such file {path!r}")
    from .user_model import MAX_FILE_BYTES, ModelRefused, check_budget, load_keras_file
    if os.path.getsize(path) > MAX_FILE_BYTES:
        raise UsageError(f"--model: the file is over the limit of "
                         f"{MAX_FILE_BYTES // 2 ** 20} MB")
    from .flow import flow
    try:
        with open(path, "rb") as file:
            model = load_keras_file(file.read())
        check_budget(model, batch_size)
    except ModelRefused as error:
        raise UsageError(f"--model: {error}") from None
    return flow(model, batch_size=batch_size, seed=seed)


# ---- born-dead: core.born_dead; seeds: core.finite_width ---------------------------------
# Each is one spec's flags and one table; TensorFlow loads only when the table is computed.
from . import born_dead, finite_width  # noqa: E402 (light modules, imported in their section)


def _born_dead_arguments(parser: argparse.ArgumentParser) -> None:
    add_spec_arguments(parser, base=born_dead.BornDeadSpec())
    add_format_argument(parser)


def _born_dead_run(args: argparse.Namespace) -> pd.DataFrame:
    return born_dead.born_dead(spec_from_args(args, base=born_dead.BornDeadSpec()))


def _seeds_arguments(parser: argparse.ArgumentParser) -> None:
    add_spec_arguments(parser, base=finite_width.FiniteWidthSpec())
    add_format_argument(parser)


def _seeds_run(args: argparse.Namespace) -> pd.DataFrame:
    return finite_width.seed_table(spec_from_args(args, base=finite_width.FiniteWidthSpec()))


# ---- code: core.keras_model.keras_code, the pages' "Show the Keras code" ---------------
_code_arguments = add_spec_arguments


def _code_run(args: argparse.Namespace) -> str:
    spec = spec_from_args(args)  # validate before the slow TensorFlow import
    from .keras_model import keras_code
    return keras_code(spec)
