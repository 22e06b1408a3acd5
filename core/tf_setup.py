"""Import TensorFlow and Keras once, quietly, and only when a computation needs them.

Every module imports them through here, never directly. In the server the warm-up
thread and the first pages' script threads import at the same moment; this module's
import lock makes one of them import both while the others wait. Two threads that
enter TensorFlow's import from different top modules (one `import tensorflow`, one
`import keras`, which import each other) can each hold a module the other needs: in a
measured cold start Python raised _DeadlockError in one thread and the page's thread
found `tensorflow.python.data.ops.dataset_ops` half-imported (AttributeError).
"""
import contextlib
import os
import sys
import threading

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# TensorFlow 2.21's oneDNN kernels corrupt memory in the weight gradient of a strided 1x1
# convolution (ResNet's shortcut): the process dies, and with it every session of the
# server. Off unless asked for (TF_ENABLE_ONEDNN_OPTS=1); the MLP profile is about a
# third slower without them, training no slower (benchmarks/bench_first_choice.py).
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


@contextlib.contextmanager
def _start_up_notes_hidden():
    """TensorFlow 2.21's C++ start-up writes notes (oneDNN, CPU features) to file
    descriptor 2 before it reads TF_CPP_MIN_LOG_LEVEL, so a command-line error would not
    be one line. Hide descriptor 2 for the import, but only in a single-threaded process
    (the command line): in the server another thread's traceback must never be lost."""
    if threading.active_count() > 1 or os.environ["TF_CPP_MIN_LOG_LEVEL"] < "2":
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


with _start_up_notes_hidden():
    import keras  # noqa: E402
    import tensorflow as tf  # noqa: E402

__all__ = ["keras", "tf"]
