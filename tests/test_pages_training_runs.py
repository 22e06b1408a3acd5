"""pages/training_runs.py: a training waits for a process-wide slot and says how many
are ahead; a stop during training keeps the steps done and goes on."""
import threading
import time

import pytest

SCRIPT = """
import streamlit as st
from pages import server, training_runs
server.tune()
st.write("ran")
"""


def test_a_session_waits_for_a_training_slot_and_says_how_many_are_ahead(monkeypatch):
    from streamlit.delta_generator import DeltaGenerator
    from streamlit.testing.v1 import AppTest

    from pages import admission, server, training_runs
    server.tune()  # sets the queue's slots
    queue = admission.training_queue()
    assert queue.slots == admission.default_slots()
    notes, real_info = [], DeltaGenerator.info
    monkeypatch.setattr(DeltaGenerator, "info",
                        lambda self, body, *a, **k: (notes.append(body),
                                                     real_info(self, body, *a, **k))[1])
    held = [queue.enqueue() for _ in range(queue.slots)]
    assert all(queue.try_take(ticket, 0) for ticket in held)
    ahead = queue.enqueue()  # one more training waiting before this session's
    def release_once_waiting():  # not on a timer: a busy machine may start late
        deadline = time.monotonic() + 60
        while not notes and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)  # a few more polls of the waiting session
        for ticket in held + [ahead]:
            queue.leave(ticket)
    release = threading.Thread(target=release_once_waiting)
    release.start()
    at = AppTest.from_string(SCRIPT.replace(
        'st.write("ran")',
        'with training_runs.training_slot(poll=0.05):\n    st.write("trained")'),
        default_timeout=60)
    at.run()
    release.join()
    assert not at.exception and at.markdown[0].value == "trained"
    assert notes and notes[0] == training_runs.WAITING.format(ahead=1)
    assert not at.info  # the note is gone once the training runs
    assert queue.busy == 0 and queue.waiting == 0


def test_a_stop_during_training_keeps_the_steps_done_and_goes_on(monkeypatch):
    """Streamlit stops a session by raising in its next drawing call: the run ends there,
    its table is kept, labelled as stopped, and the stop is raised again."""
    from core.spec import ModelSpec
    from core.training import TrainingSpec
    from pages import training_runs

    class Stop(BaseException):
        pass

    def live(label, progress):
        if progress["step"] == 3:
            raise Stop
    monkeypatch.setattr(training_runs, "DRAW_EVERY", 0.0)  # draw at every step
    kept = {}
    runs = {name: (ModelSpec(depth=2, width=8), TrainingSpec(steps=10, eval_every=5))
            for name in ("first", "second")}
    with pytest.raises(Stop):
        training_runs.train_runs(runs, lambda label, table: kept.update({label: table}), live=live)
    (label, table), = kept.items()  # the second run never started
    assert label == "first (stopped at step 3)"
    assert table["step"].max() == 3 and table.attrs["stopped"] == "cancelled"
