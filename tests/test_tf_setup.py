"""core/tf_setup.py: TensorFlow and Keras imported once, quietly, with the TensorFlow
backend; nothing else in core imports them at import time."""
import subprocess
import sys

from conftest import ROOT


def test_keras_runs_on_tensorflow_and_logs_are_quiet():
    from core.tf_setup import keras, tf
    import os
    assert keras.backend.backend() == "tensorflow"
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "3"
    assert float(tf.reduce_sum(tf.ones(3))) == 3.0


def test_importing_core_and_its_spec_loads_no_tensorflow():
    probe = ("import sys, core, core.spec, core.cli; "
             "print('tensorflow' in sys.modules, 'keras' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.stdout.split() == ["False", "False"], done.stderr


def test_the_command_line_prints_no_start_up_notes():
    """TensorFlow's C++ start-up notes (oneDNN, CPU features) ignore TF_CPP_MIN_LOG_LEVEL;
    a single-threaded process (the command line) hides them, so an error is one line."""
    done = subprocess.run([sys.executable, "-c", "import core.tf_setup; print('ok')"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "ok" and done.stderr == ""
    broken = "import sys; sys.modules['keras'] = None; import core.tf_setup"
    done = subprocess.run([sys.executable, "-c", broken], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 1 and "import of keras halted" in done.stderr  # errors show
