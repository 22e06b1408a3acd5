"""core.experiments.remedies: scenarios, outcome sentences, the comparison table."""
import numpy as np
import pandas as pd
import pytest

from core.experiments import remedies
from core.experiments.remedies import outcome


@pytest.mark.parametrize("result, text", [
    (dict(diverged_step=7, final_test_accuracy=0.9, recent_batch_accuracy=0.9),
     "diverged at step 7"),
    (dict(diverged_step=None, final_test_accuracy=0.12, recent_batch_accuracy=0.55),
     "learned on batches (55%), not on test (12%)"),
    (dict(diverged_step=None, final_test_accuracy=0.12, recent_batch_accuracy=0.15),
     "did not learn (chance is 10%)"),
    (dict(diverged_step=None, final_test_accuracy=0.6, recent_batch_accuracy=0.9),
     "learned (60% test, 90% batches)"),
    (dict(diverged_step=None, final_test_accuracy=0.9, recent_batch_accuracy=0.95),
     "learned (90% on test)"),
    (dict(diverged_step=None, final_test_accuracy=float("nan"),
          recent_batch_accuracy=float("nan")), "did not learn (chance is 10%)"),
])
def test_remedy_outcome_sentences(result, text):
    assert outcome(result, classes=10) == text


def test_remedy_outcome_uses_the_number_of_classes():
    result = dict(diverged_step=None, final_test_accuracy=0.45, recent_batch_accuracy=0.45)
    assert outcome(result, classes=10) == "learned (45% on test)"
    assert outcome(result, classes=2) == "did not learn (chance is 50%)"
