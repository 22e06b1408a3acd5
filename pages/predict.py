"""Predict first, on every topic page: commit to an answer, then see it measured.

`panel(page)` draws one folded section at the top of a topic page with that page's
challenges (core.challenge_bank). The measurement, its chart and its numbers stay
hidden until the student commits an answer; the reveal shows the guess on the same
axis as the measured answer, one sentence on why, and the running score of the
session. ?challenge=KEY opens the section on that challenge (its link).

With the section's "Predict first" switch on (a challenge link turns it on), the
page's own charts, metrics, tables and measured sentences are hidden too, until the
chosen challenge has a committed answer: they could give the answer away. The page
still runs (its controls keep their values and stay usable); HIDE_CSS hides, in the
browser, what comes after the slot, so the title, intro, headings and controls stay.
"""
from __future__ import annotations

from urllib.parse import urlencode, urlsplit

import streamlit as st

from core import challenges
from core.charts import challenges as charts

PARAM = "challenge"  # the URL parameter that opens a challenge
SCORE = "predict_score"  # session state: challenge key -> right (bool), latest try
HIDE = "predict_hide"  # session state: the "Predict first" switch, kept across pages
HIDDEN = ("charts, numbers, tables and measured sentences below are hidden until you "
          "commit an answer")
# Everything after the Predict-first slot (ui.intro's keyed container, which Streamlit
# wraps in a layout block) that shows a measurement: charts, metrics, tables, captions,
# alerts, markdown, downloads, the Keras-code expanders.
_SHOWS = ("stVegaLiteChart", "stMetric", "stDataFrame", "stTable", "stCaptionContainer",
          "stAlert", "stMarkdown", "stDownloadButton", "stExpander", "stCode")
_AFTER_SLOT = (".st-key-predict_slot ~", ":has(> .st-key-predict_slot) ~")
HIDE_CSS = "<style>" + ",".join(
    f'{after} {inside}[data-testid="{name}"]' for after in _AFTER_SLOT
    for inside in ("", "* ") for name in _SHOWS
) + "{display:none !important}</style>"


def _link(key: str) -> str:
    parts = urlsplit(st.context.url or "")
    return f"{parts.scheme}://{parts.netloc}{parts.path}?{urlencode({PARAM: key})}"


def _opened(page: str, keys: list[str], entering: bool) -> str | None:
    """The challenge the URL names (on entering the page), if it is one of `keys`;
    a warning line for a bad one."""
    if not entering or PARAM not in st.query_params:
        return None
    wanted = st.query_params.get_all(PARAM)[-1]
    if wanted in keys:
        return wanted
    st.session_state.setdefault("_ui_warnings", []).append(
        f"URL parameter `{PARAM}` must be one of this page's challenges "
        f"({', '.join(keys)}); ignored.")
    return None


def after_page(page: str, entering: bool) -> None:
    """Fill the page's "Predict first" slot (made by ui.intro) once the page ran."""
    from pages.ui import _this_run
    box = _this_run("predict_slot").get("box")
    if box is not None and challenges.for_page(page):
        st.session_state["_ui_extra_params"] = {PARAM}
        panel(page, box, entering)


def _commit(key: str) -> None:
    st.session_state[f"predict_committed_{key}"] = st.session_state.get(
        f"predict_answer_{key}")


def _again(key: str) -> None:
    st.session_state.pop(f"predict_committed_{key}", None)


def panel(page: str, where, entering: bool) -> None:
    """The page's challenges in a folded section drawn into `where` (nothing if the
    page has none)."""
    bank = challenges.for_page(page)
    if not bank:
        return
    keys = [challenge.key for challenge in bank]
    opened = _opened(page, keys, entering)
    pick = f"predict_pick_{page}"
    if opened:
        st.session_state[pick] = opened
        st.session_state[HIDE] = True  # a challenge's link opens it to be predicted
    score = st.session_state.setdefault(SCORE, {})
    current = st.session_state.get(pick)
    current = current if current in keys else keys[0]
    committed = st.session_state.get(f"predict_committed_{current}")
    if committed is not None:  # graded before the title, which shows the score
        with where, st.spinner("Measuring with TensorFlow..."):
            answer = challenges.measure(current).answer
        score[current] = challenges.grade(challenges.get(current), committed, answer)
    title = f"🎯 Predict first: {len(bank)} challenges on this page"
    if score:
        title += f" · your score {sum(score.values())} / {len(score)}"
    # open while predicting: a link opens it, and it must not fold away at the reveal
    with where.expander(title, expanded=bool(opened or st.session_state.get(HIDE))):
        key = st.selectbox("Challenge", keys, key=pick,
                           format_func=lambda k: challenges.get(k).question)
        challenge = challenges.get(key)
        st.toggle("Predict first: hide this page's results until I commit",
                  value=st.session_state.get(HIDE, False), key=f"predict_hide_{page}",
                  on_change=_switched, args=(page,),
                  help="The page's own charts and numbers could give the answer away.")
        committed = st.session_state.get(f"predict_committed_{key}")
        if committed is None:
            _ask(challenge)
        else:
            _reveal(challenge, committed)
        st.caption("Link to this challenge:")
        st.code(_link(key), language=None, wrap_lines=True)
    if st.session_state.get(HIDE) and committed is None:
        where.html(HIDE_CSS)
        where.info(f"**Predict first is on**: this page's {HIDDEN}.", icon="🙈")


def _switched(page: str) -> None:
    st.session_state[HIDE] = st.session_state[f"predict_hide_{page}"]


def _ask(challenge) -> None:
    key = challenge.key
    st.markdown(f"**{challenge.question}** The measurement stays hidden until you "
                "commit to an answer.")
    if challenge.kind == "decades":
        st.slider("Your prediction: 10 to the power of (decades)", float(challenge.low),
                  float(challenge.high), 0.0, step=0.5, key=f"predict_answer_{key}",
                  help="−3 means 10⁻³; right within one decade of the measurement.")
    else:
        st.radio("Your prediction", challenge.choices, index=None,
                 key=f"predict_answer_{key}")
    ready = st.session_state.get(f"predict_answer_{key}") is not None
    st.button("Commit my answer, then measure", key=f"predict_commit_{key}",
              type="primary", on_click=_commit, args=(key,), disabled=not ready)


def _reveal(challenge, guess) -> None:
    measurement = challenges.measure(challenge.key)
    right = challenges.grade(challenge, guess, measurement.answer)
    shown = challenges.answer_text(challenge, float(guess) if challenge.kind == "decades"
                                   else guess)
    measured = challenges.answer_text(challenge, measurement.answer)
    (st.success if right else st.warning)(
        f"You said {shown}; measured: **{measured}**. {challenge.why}",
        icon="🎉" if right else "🤔")
    decades = challenge.kind == "decades"
    left, right_column = st.columns(2)
    left.altair_chart(charts.answers_chart(
        challenges.tally(challenge, [guess], measurement.answer), "Your answer", decades,
        measured=measurement.answer if decades else None,
        guess=float(guess) if decades else None), width="stretch")
    right_column.altair_chart(charts.measured_chart(challenge, measurement),
                              width="stretch")
    st.button("Try again", key=f"predict_again_{challenge.key}", on_click=_again,
              args=(challenge.key,))
