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


def test_a_strided_1x1_convolution_gradient_does_not_kill_the_process():
    """oneDNN (on by default in TensorFlow 2.21) corrupts memory in this gradient (the
    ResNet shortcut's) and the process dies; core.tf_setup turns oneDNN off."""
    probe = """
import core.tf_setup
from core.tf_setup import tf
kernel = tf.Variable(tf.random.normal([1, 1, 4, 8]))
for batch in (2, 3, 2, 5):
    with tf.GradientTape() as tape:
        y = tf.nn.conv2d(tf.random.normal([batch, 64, 64, 4]), kernel, 2, "VALID")
        loss = tf.reduce_sum(y * y)
    assert tape.gradient(loss, kernel).shape == (1, 1, 4, 8)
print("alive")
"""
    env = {key: value for key, value in __import__("os").environ.items()
           if key != "TF_ENABLE_ONEDNN_OPTS"}  # the module's own default
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, env=env)
    assert done.returncode == 0 and done.stdout.strip() == "alive", done.stderr[-500:]
