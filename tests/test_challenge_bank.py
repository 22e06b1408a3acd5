"""core/challenge_bank.py: the challenges of every topic page, specs and questions only
(tests/test_challenges.py grades each one against the core)."""
import re
from pathlib import Path

import pytest

from core import challenges
from core.challenge_bank import BANK

ROOT = Path(__file__).resolve().parents[1]
ROUTED = set(re.findall(r'st\.Page\("pages/(\w+)\.py"', (ROOT / "streamlit_app.py").read_text()))


def test_bank_covers_every_topic_page():
    keys = [challenge.key for challenge in BANK]
    assert len(BANK) >= 20
    assert len(set(keys)) == len(keys)
    pages = {challenge.page for challenge in BANK}
    assert pages == {"problem", "why", "initialization", "phase", "activations",
                     "remedies", "through_time"}
    assert pages <= ROUTED  # every challenge's page is one the router shows
    for page in pages:
        assert len(challenges.for_page(page)) >= 2
    for challenge in BANK:
        assert challenge.why.strip() and challenge.question.endswith("?") or \
            challenge.question.endswith("(in decades)")


@pytest.mark.parametrize("challenge", BANK, ids=lambda c: c.key)
def test_each_challenge_is_well_formed(challenge):
    assert re.fullmatch(r"[a-z0-9-]+", challenge.key)  # safe in ?challenge=KEY
    if challenge.kind == "bucket" and challenge.edges:
        assert list(challenge.edges) == sorted(challenge.edges)
        assert len(challenge.choices) == len(challenge.edges) + 1
    if challenge.kind == "decades":
        assert challenge.low < 0 < challenge.high or challenge.low < challenge.high
    # the bank stores questions, never answers: the answer is not in the question
    if challenge.kind in ("bucket", "pick"):
        assert not any(f"answer: {choice}" in challenge.question.lower()
                       for choice in challenge.choices)
