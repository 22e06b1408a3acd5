"""python -m core: same numbers as the API, one-line errors with exit status 2."""
import io
import math
import json
import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT
from core import training
from core.per_layer import profile
from core.spec import ModelSpec


def run_cli(*args):
    env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([sys.executable, "-m", "core", *args], capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=300)


def test_profile_csv_and_json_match_the_python_api():
    flags = ["--depth", "6", "--width", "16", "--batch-size", "8", "--activation",
             "leaky_relu", "--negative-slope", "0.2", "--init", "he_uniform",
             "--batch-norm", "--residual", "--bias-stddev", "0.1", "--seed", "3"]
    spec = ModelSpec(depth=6, width=16, batch_size=8, activation="leaky_relu",
                     negative_slope=0.2, init="he_uniform", batch_norm=True, residual=True,
                     bias_stddev=0.1, seed=3)
    expected = profile(spec)
    done = run_cli("profile", *flags)
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(io.StringIO(done.stdout))
    assert list(table.columns) == list(expected.columns)
    np.testing.assert_allclose(table["signal_grad_norm"], expected["signal_grad_norm"],
                               rtol=1e-6)
    done = run_cli("profile", *flags, "--format", "json")
    records = json.loads(done.stdout)
    assert len(records) == 6
    assert records[0]["weight_grad_norm"] == pytest.approx(
        float(expected["weight_grad_norm"][0]), rel=1e-6)


def test_overflow_is_written_as_inf_and_nan():
    done = run_cli("profile", "--depth", "150", "--width", "4", "--batch-size", "4",
                   "--activation", "linear", "--init", "identity", "--gain", "1.5",
                   "--no-bias", "--format", "json")
    values = [row["signal_grad_norm"] for row in json.loads(done.stdout)]
    assert "inf" in values and "nan" in values


def test_dtype_float16_computes_in_float16_and_writes_its_overflow_as_inf():
    """--dtype float16: the identity network's ‖h_l‖ passes 65504 at layer 19 (1.5^l·‖x‖)."""
    code, out = run_in_process("profile", "--depth", "22", "--width", "32", "--batch-size",
                               "64", "--activation", "linear", "--init", "identity",
                               "--gain", "1.5", "--no-bias", "--dtype", "float16")
    assert code == 0
    table = pd.read_csv(io.StringIO(out))
    norms = table["activation_norm"].to_numpy()
    assert np.isinf(norms[18:]).all() and np.isfinite(norms[:18]).all()
    assert norms[17] == 64928.0  # a float16 number (float32 would print 64925.x)


@pytest.mark.parametrize("args, flag", [
    (["--depth", "500"], "--depth"), (["--activation", "softmax"], "--activation"),
    (["--gain", "abc"], "--gain"), (["--dtype", "float8"], "--dtype"),
    (["--dtype", "half"], "--dtype"), (["--dtype", "FLOAT16"], "--dtype"),
    (["--negative-slope", "nan"], "--negative-slope"),
    (["--depth", "200", "--width", "1024"], "reduce depth"),
    (["--bogus", "1"], "unrecognized"), (["--format", "xml"], "--format"),
    (["--residual", "--residual-scale", "-0.5"], "--residual-scale"),
    (["--residual-scale", "big"], "--residual-scale"),
    (["--residual-scale", "inf"], "--residual-scale"),
])
def test_bad_flags_exit_2_with_one_line(args, flag):
    done = run_cli("profile", *args)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and flag in lines[0], done.stderr
    assert done.stdout == ""


# ---- grid and sweep --------------------------------------------------------------------

def run_in_process(*argv):
    from contextlib import redirect_stdout
    from core.cli import main
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(list(argv))
    return code, out.getvalue()


def test_cli_grid_and_sweep():
    code, text = run_in_process("grid", "--depth", "5", "--width", "16", "--inits",
                                "he_normal", "--activations", "relu,tanh", "--format",
                                "json")
    assert code == 0 and len(json.loads(text)) == 2
    code, text = run_in_process("sweep", "--depth", "5", "--width", "16", "--sigmas",
                                "1,2", "--activations", "relu")
    table = pd.read_csv(io.StringIO(text))
    assert code == 0 and set(table.kind) == {"measured", "theory"}


@pytest.mark.parametrize("argv", [["grid", "--inits", "nope"], ["grid", "--depth", "0"],
                                  ["sweep", "--sigmas", "1,abc"],
                                  ["sweep", "--batch-size", "5000"]])
def test_cli_bad_flags_exit_2_in_one_line(argv):
    probe = ("import sys; from core.cli import main; code = main(sys.argv[1:]); "
             "print('tensorflow' in sys.modules); sys.exit(code)")
    result = subprocess.run([sys.executable, "-c", probe, *argv], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert result.stdout.strip() == "False"  # rejected before TensorFlow was imported


# ---- through-time --------------------------------------------------------------------

def test_through_time_json_and_csv(capsys):
    done = run_cli("through-time", "--cell", "gru", "--activation", "linear",
                   "--recurrent-init", "identity", "--gain", "0.9", "--steps", "6",
                   "--units", "4", "--seed", "3", "--format", "json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [row["step"] for row in rows] == [1, 2, 3, 4, 5, 6]
    assert {"signal_grad_norm", "spectral_radius", "largest_singular_value"} <= set(rows[0])
    # Keras' Identity on a (units, 3 units) GRU kernel fills only the first gate block.
    assert rows[0]["spectral_radius"] == 0.0
    from core.cli import main  # in-process: one subprocess is enough for the slow import
    assert main(["through-time", "--cell", "simple", "--activation", "linear",
                 "--recurrent-init", "identity", "--gain", "0.9", "--steps", "5",
                 "--units", "4"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("step,signal_grad_norm") and len(lines) == 6
    first, last = (float(line.split(",")[1]) for line in (lines[1], lines[-1]))
    assert first / last == pytest.approx(0.9 ** 4, rel=1e-5)
    assert float(lines[1].split(",")[-2]) == pytest.approx(0.9)


@pytest.mark.parametrize("flags, message", [
    (("--cell", "transformer"), "--cell must be one of simple, lstm, gru"),
    (("--steps", "500"), "--steps must be an integer from 2 to 200"),
    (("--gain", "abc"), "--gain must be a number from 0 to 3"),
    (("--format", "xml"), "--format"),
])
def test_through_time_bad_flags_exit_2_with_one_line(flags, message):
    done = run_cli("through-time", *flags)
    assert done.returncode == 2
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


# ---- train -----------------------------------------------------------------------------
def run_train(*argv):
    from core.cli import main
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        status = main(["train", *argv])
    return status, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("argv, flag", [
    (["--learning-rate", "fast"], "--learning-rate"), (["--optimizer", "rmsprop"],
                                                       "--optimizer"),
    (["--dataset", "mnist"], "--dataset"), (["--depth", "0"], "--depth"),
    (["--clipnorm", "1", "--clipvalue", "1"], "only one of"),
    (["--steps", "5000", "--depth", "200", "--width", "1024"], "budget")])
def test_train_bad_flags_exit_2_with_one_line(argv, flag):
    status, out, err = run_train(*argv)
    assert status == 2 and out == ""
    assert flag in err and len(err.strip().splitlines()) == 1


def test_train_prints_the_long_table():
    status, out, err = run_train("--depth", "2", "--width", "8", "--steps", "3",
                                 "--dataset", "moons", "--optimizer", "adam", "--format",
                                 "json")
    assert status == 0 and err == ""
    printed = json.loads(out)
    records = printed["rows"]
    assert len(records) == 6 and set(training.COLUMNS) <= set(records[0])
    assert printed["forensics"] is None  # it did not diverge


def test_train_reports_a_divergence_on_stderr_and_in_json():
    """A one-layer linear network at learning rate 10: the logits overflow at step 16."""
    argv = ["--depth", "1", "--width", "32", "--activation", "linear", "--init",
            "glorot_uniform", "--learning-rate", "10", "--steps", "20"]
    status, out, err = run_train(*argv, "--format", "json")
    assert status == 0
    report = json.loads(out)["forensics"]
    assert (report["step"], report["layer"], report["quantity"], report["cause"]) == (
        16, None, "loss", "loss_overflow")
    assert [fix["label"] for fix in report["fixes"]] == ["learning rate 0.5",
                                                         "global_clipnorm = 1"]
    lines = err.splitlines()
    assert lines[0].startswith("diverged at step 16: nan in the loss")
    assert lines[1] == ("First non-finite quantity: the loss (nan) at step 16. Likely "
                        "cause: an overflow in the loss.")
    assert "Suggested fix: global_clipnorm = 1" in lines
    status, out, err_csv = run_train(*argv)  # csv: the same report on stderr
    assert status == 0 and err_csv == err and out.startswith("step,layer,")


def exits_2_before_tensorflow(command: str, argv: list, flag: str) -> None:
    """`python -m core COMMAND ARGV` exits 2 with one line naming `flag`, and never
    imports TensorFlow."""
    probe = ("import sys; from core.cli import main; code = main(sys.argv[1:]); "
             "print('tensorflow' in sys.modules); sys.exit(code)")
    result = subprocess.run([sys.executable, "-c", probe, command, *argv], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and flag in result.stderr
    assert result.stdout.strip() == "False"


# ---- phase ----------------------------------------------------------------------------
def test_phase_csv_and_json_are_the_grid():
    from core.experiments.phase import COLUMNS, PhaseSpec, phase_grid
    argv = ["phase", "--activation", "tanh", "--depth", "8", "--width", "32",
            "--sigma-w2", "0.5,2", "--sigma-b2", "0,0.05"]
    code, text = run_in_process(*argv)
    table = pd.read_csv(io.StringIO(text))
    assert code == 0 and list(table.columns) == COLUMNS and len(table) == 4
    expected = phase_grid(PhaseSpec(depth=8, width=32, sigma_w2=(0.5, 2.0),
                                    sigma_b2=(0.0, 0.05)))
    np.testing.assert_allclose(table.measured_log10_ratio, expected.measured_log10_ratio,
                               rtol=1e-6)
    np.testing.assert_allclose(table.critical_sigma_w2, [1, 1, 1.7609546, 1.7609546],
                               rtol=1e-6)
    code, text = run_in_process(*argv, "--format", "json")
    rows = json.loads(text)
    assert code == 0 and rows[0]["depth_scale"] == pytest.approx(1 / math.log(2))


@pytest.mark.parametrize("argv, flag", [
    (["--sigma-w2", "0,1"], "--sigma-w2"), (["--sigma-b2", "a"], "--sigma-b2"),
    (["--activation", "softmax"], "--activation"), (["--depth", "1"], "--depth"),
    (["--width", "1024", "--batch-size", "2048"], "budget"),
    (["--format", "xml"], "--format")])
def test_phase_bad_flags_exit_2_with_one_line(argv, flag):
    exits_2_before_tensorflow("phase", argv, flag)


# ---- jacobian -------------------------------------------------------------------------
def test_jacobian_csv_and_json_are_the_spectrum():
    from core.jacobian import COLUMNS, spectrum
    argv = ["jacobian", "--depth", "12", "--width", "32", "--activation", "linear",
            "--init", "orthogonal", "--no-bias"]
    code, text = run_in_process(*argv)
    table = pd.read_csv(io.StringIO(text))
    assert code == 0 and list(table.columns) == COLUMNS and len(table) == 32
    np.testing.assert_allclose(table.singular_value, 1.0, atol=1e-5)
    expected = spectrum(ModelSpec(depth=12, width=32, batch_size=1, activation="linear",
                                  init="orthogonal", no_bias=True))
    np.testing.assert_allclose(table.singular_value, expected.singular_value, rtol=1e-7)
    code, text = run_in_process(*argv, "--format", "json")
    rows = json.loads(text)
    assert code == 0 and rows[0]["theory_var_lambda"] == 0.0 and rows[0]["rank"] == 1


@pytest.mark.parametrize("argv, flag", [
    (["--batch-norm"], "batch_norm"), (["--init", "zeros"], "--init"),
    (["--depth", "200", "--width", "1024"], "reduce depth"), (["--format", "xml"],
                                                              "--format")])
def test_jacobian_bad_flags_exit_2_with_one_line(argv, flag):
    exits_2_before_tensorflow("jacobian", argv, flag)


# ---- flow ---------------------------------------------------------------------------

def test_flow_csv_and_json_match_the_python_api():
    from core.zoo import ZooSpec, flow_of
    flags = ["--architecture", "transformer_post_ln", "--blocks", "2", "--d-model", "16",
             "--heads", "2", "--seq-len", "4", "--batch-size", "2", "--seed", "5"]
    expected = flow_of(ZooSpec(architecture="transformer_post_ln", blocks=2, d_model=16,
                               heads=2, seq_len=4, batch_size=2, seed=5))
    done = run_cli("flow", *flags)
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(io.StringIO(done.stdout))
    assert list(table["name"]) == list(expected["name"])
    np.testing.assert_allclose(table["signal_grad_norm"], expected["signal_grad_norm"],
                               rtol=1e-7)
    records = json.loads(run_cli("flow", *flags, "--format", "json").stdout)
    assert records[0]["kind"] == "MultiHeadAttention"


def test_flow_of_the_mlp_takes_the_model_flags_and_prints_the_profile():
    done = run_cli("flow", "--architecture", "mlp", "--depth", "3", "--width", "8",
                   "--batch-size", "4", "--activation", "relu", "--init", "he_normal")
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(io.StringIO(done.stdout))
    expected = profile(ModelSpec(depth=3, width=8, batch_size=4, activation="relu",
                                 init="he_normal"))
    np.testing.assert_allclose(table["signal_grad_norm"][:3], expected["signal_grad_norm"],
                               rtol=1e-5)


def test_flow_of_a_saved_keras_file(tmp_path):
    from core.flow import flow
    from core.tf_setup import keras
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4, name="a"),
                              keras.layers.Dense(2, name="b")])
    path = tmp_path / "mine.keras"
    model.save(path)
    done = run_cli("flow", "--model", str(path), "--batch-size", "3", "--seed", "1")
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(io.StringIO(done.stdout))
    np.testing.assert_allclose(table["signal_grad_norm"],
                               flow(model, batch_size=3, seed=1)["signal_grad_norm"],
                               rtol=1e-7)
    (tmp_path / "bad.keras").write_bytes(b"not a zip")
    done = run_cli("flow", "--model", str(tmp_path / "bad.keras"))
    assert done.returncode == 2 and "not a .keras file" in done.stderr


@pytest.mark.parametrize("args, words", [
    (["--architecture", "alexnet"], "--architecture must be one of"),
    (["--architecture", "resnet", "--depth", "21"], "6n+2"),
    (["--architecture", "lstm", "--init", "he_normal"], "applies only to --architecture mlp"),
    (["--model", "/no/such.keras"], "no such file"),
    (["--model", "x.keras", "--blocks", "3"], "does not apply to --model"),
    (["--architecture", "resnet50", "--image-size", "224", "--batch-size", "64"],
     "work budget"),
    (["--architecture", "resnet", "--residual-scale", "-1"],
     "--residual-scale must be a number from 0 to 10 (got '-1')"),
    (["--architecture", "transformer_pre_ln", "--residual-scale", "11"],
     "--residual-scale must be"),
    (["--residual-scale", "nan"], "--residual-scale must be"),
    (["--architecture", "mlp", "--residual", "--residual-scale", "1/sqrt(L)"],
     "--residual-scale must be"),
    (["--model", "x.keras", "--residual-scale", "0"], "does not apply to --model"),
])
def test_flow_bad_flags_exit_2_with_one_line(args, words):
    done = run_cli("flow", *args)
    assert done.returncode == 2
    assert words in done.stderr and len(done.stderr.strip().splitlines()) == 1


# ---- born-dead ------------------------------------------------------------------------
def test_born_dead_json_and_bad_flags():
    code, text = run_in_process("born-dead", "--width", "5", "--depth", "20", "--seeds",
                                "500", "--format", "json")
    rows = json.loads(text)
    assert code == 0 and len(rows) == 1
    assert rows[0]["theory_fraction"] == pytest.approx(1 - (1 - 2 ** -5) ** 20)
    assert abs(rows[0]["measured_fraction"] - rows[0]["theory_fraction"]) < 0.1
    for argv, flag in ((["--width", "0"], "--width"), (["--init", "orthogonal"], "--init"),
                       (["--seeds", "100000", "--depth", "1000", "--width", "64"],
                        "budget")):
        probe = ("import sys; from core.cli import main; code = main(sys.argv[1:]); "
                 "print('tensorflow' in sys.modules); sys.exit(code)")
        result = subprocess.run([sys.executable, "-c", probe, "born-dead", *argv],
                                cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert result.returncode == 2 and flag in result.stderr
        assert result.stderr.count("\n") == 1 and result.stdout.strip() == "False"


# ---- seeds ------------------------------------------------------------------------------
def test_seeds_csv_and_json_are_the_python_api():
    from core.finite_width import FiniteWidthSpec, seed_table
    flags = ["--seeds", "4", "--depth", "6", "--width", "16", "--seed", "3"]
    expected = seed_table(FiniteWidthSpec(seeds=4, depth=6, width=16, seed=3))
    code, text = run_in_process("seeds", *flags)
    table = pd.read_csv(io.StringIO(text))
    assert code == 0 and list(table.columns) == ["seed", "forward_gain", "backward_gain"]
    assert list(table["seed"]) == [3, 4, 5, 6]
    np.testing.assert_allclose(table[["forward_gain", "backward_gain"]],
                               expected[["forward_gain", "backward_gain"]], rtol=1e-7)
    code, text = run_in_process("seeds", *flags, "--activation", "tanh", "--init",
                                "glorot_normal", "--format", "json")
    rows = json.loads(text)
    assert code == 0 and len(rows) == 4 and set(rows[0]) == {"seed", "forward_gain",
                                                               "backward_gain"}


@pytest.mark.parametrize("argv, words", [
    (["--seeds", "1"], "--seeds"), (["--seeds", "many"], "--seeds"),
    (["--width", "0"], "--width"), (["--activation", "softmax"], "--activation"),
    (["--dtype", "float16"], "--dtype"), (["--batch-norm"], "unrecognized"),
    (["--seeds", "10000", "--depth", "200", "--width", "256"], "budget"),
    (["--format", "xml"], "--format")])
def test_seeds_bad_flags_exit_2_with_one_line_before_tensorflow(argv, words):
    probe = ("import sys; from core.cli import main; code = main(sys.argv[1:]); "
             "print('tensorflow' in sys.modules); sys.exit(code)")
    result = subprocess.run([sys.executable, "-c", probe, "seeds", *argv],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and words in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1 and result.stdout.strip() == "False"


def test_the_readme_shows_a_seeds_command_that_parses_and_says_what_it_prints():
    from core.cli import build_parser, spec_from_args
    from core.finite_width import FiniteWidthSpec
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Command line"):readme.index("## Benchmarks")]
    line = next(line for line in section.splitlines() if "-m core seeds" in line)
    argv = line.split("-m core ", 1)[1].split()
    spec = spec_from_args(build_parser("seeds").parse_args(argv), base=FiniteWidthSpec())
    assert (spec.seeds, spec.depth, spec.width, spec.init) == (100, 50, 128, "he_normal")
    assert all(f"`{column}`" in section for column in ("seed", "forward_gain",
                                                       "backward_gain"))
    assert "`core/finite_width.py`" in readme[readme.index("## Layout"):]


def test_residual_scale_flag_reaches_the_spec_and_mlp_flow_takes_it():
    from core.cli import build_parser, spec_from_args
    args = build_parser("profile").parse_args(["profile", "--residual", "--residual-scale",
                                               "0.1"])
    spec = spec_from_args(args)
    assert spec.residual and spec.residual_scale == 0.1
    done = run_cli("flow", "--architecture", "mlp", "--residual", "--residual-scale", "0.1",
                   "--depth", "4", "--width", "16")
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(io.StringIO(done.stdout))
    expected = profile(ModelSpec(depth=4, width=16, batch_size=8, residual=True,
                                 residual_scale=0.1))
    np.testing.assert_allclose(table["signal_grad_norm"][:4], expected["signal_grad_norm"],
                               rtol=1e-5)
    done = run_cli("flow", "--architecture", "resnet", "--residual", "--residual-scale",
                   "0.1")
    assert done.returncode == 2 and "--residual applies only to --architecture mlp" in \
        done.stderr


@pytest.mark.parametrize("architecture, flags", [
    ("resnet", ["--depth", "8", "--width", "4"]),
    ("transformer_pre_ln", ["--blocks", "2", "--d-model", "16", "--heads", "2"])])
def test_flow_takes_the_residual_scale_for_every_architecture_with_skips(architecture,
                                                                         flags):
    from core.zoo import ZooSpec, flow_of
    done = run_cli("flow", "--architecture", architecture, *flags, "--seq-len", "4",
                   "--batch-size", "2", "--residual-scale", "0.25")
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(io.StringIO(done.stdout))
    spec = ZooSpec(architecture=architecture, depth=8 if architecture == "resnet" else None,
                   width=4 if architecture == "resnet" else None, blocks=2, d_model=16,
                   heads=2, seq_len=4, batch_size=2, residual_scale=0.25)
    expected = flow_of(spec)
    assert list(table["name"]) == list(expected["name"])
    np.testing.assert_allclose(table["signal_grad_norm"], expected["signal_grad_norm"],
                               rtol=1e-7)
    unscaled = flow_of(spec.replace(residual_scale=1.0))
    assert not np.allclose(expected["signal_grad_norm"], unscaled["signal_grad_norm"])
