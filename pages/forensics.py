"""NaN forensics on a page: the report of a diverged run and one-click replays.

`show(tables, key)` is the one call a page makes where it shows its runs: for each run
that diverged (a core.train table, or Through time's train_clipping table) it says what
went non-finite first, where and when, the lead-up, the likely cause, and offers to
replay the run with each suggested fix (through the training slots), drawn side by side
with the original.
"""
from __future__ import annotations

import streamlit as st

from core import forensics
from core.charts import forensics as charts
from core.charts import through_time as recurrent_charts
from core.charts import training as training_charts
from core.charts.export import safe_filename
from core.summary import format_table
from pages import training_runs, ui

STEP_NAMES = {"loss": "loss", "global_grad_norm": "‖g‖", "lr_times_grad_norm":
              "learning rate × ‖g‖", "logit_max": "largest |logit|",
              "largest_update_ratio": "largest ‖ΔW‖/‖W‖"}


def show(tables: dict, key: str, where=None) -> None:
    """The forensics of the diverged runs among `tables` (label -> table), in a box."""
    reports = {label: found for label, table in tables.items()
               if (found := forensics.report(table)) is not None}
    if not reports:
        return
    box = (where if where is not None else st).container(border=True)
    box.subheader("💥 What went wrong: NaN forensics")
    label = next(iter(reports))
    if len(reports) > 1:
        label = box.selectbox("Diverged run", list(reports), key=f"{key}_forensics_run")
    found, table = reports[label], tables[label]
    name = f"{key}_forensics_{safe_filename(label)}"
    box.error(found["headline"], icon="💥")
    box.markdown(found["explanation"])
    if found.get("note"):
        box.caption(found["note"])
    if found["layers"] is not None:
        for column, chart_column in zip(charts.LAYER_CHARTS, box.columns(2)):
            ui.chart(charts.lead_up_chart(found, column), key=f"{key}_forensics_{column}",
                     filename=f"{name}_{column}", where=chart_column)
    else:
        ui.chart(charts.step_lead_up_chart(found), key=f"{key}_forensics_steps",
                 filename=f"{name}_steps", where=box)
    box.dataframe(format_table(found["steps"]).rename(columns=STEP_NAMES), hide_index=True,
                  key=f"{key}_forensics_table")
    box.caption(f"The last {forensics.LEAD_UP_STEPS} finite steps and the step that "
                "diverged, read from the recorded run (nan: not computed once the numbers "
                "broke).")
    per_layer = found["layers"] is not None
    ui.download_csv(found["layers"] if per_layer else found["steps"], f"{name}_lead_up.csv",
                    key=f"{key}_forensics_csv", label="Download the lead-up (CSV)",
                    help="One row per step" + (" and hidden layer." if per_layer else "."),
                    where=box)
    if found["fixes"]:
        _replays(box, key, label, found, table)


def _replays(box, key: str, label: str, found: dict, table) -> None:
    """Buttons that replay the run with each fix; the replays beside the original."""
    state = st.session_state.setdefault(f"{key}_forensics_replays", {})
    if state.get("of") is not table:  # a new diverged run: its own replays
        state.clear()
        state.update({"of": table, "tables": {}})
    replays = state["tables"]
    buttons = box.container(horizontal=True)
    for number, fix in enumerate(found["fixes"]):
        if buttons.button(f"Replay with {fix['label']}", key=f"{key}_forensics_fix_{number}",
                          type="primary" if number == 0 else "secondary",
                          help="Train the same network again, same seed, data and batches, "
                               "with only this changed."):
            _replay(table, found, fix, replays)
    if not replays:
        box.caption("A replay trains the same run again with one suggested fix, beside the "
                    "original.")
        return
    if found["kind"] == "through_time":
        compared = forensics.through_time_compared(table, replays)
        left, right = box.columns(2)
        ui.chart(recurrent_charts.clipping_losses(compared, title="Original and replays: loss"),
                 key=f"{key}_forensics_replay_loss", filename=f"{key}_replay_loss", where=left)
        ui.chart(recurrent_charts.clipping_norms(compared, title="Original and replays: ‖g‖"),
                 key=f"{key}_forensics_replay_norms", filename=f"{key}_replay_norms",
                 where=right)
        return
    runs = {label: table, **replays}
    ui.chart(training_charts.loss_chart(runs, title="Original and replays: training loss"),
             key=f"{key}_forensics_replay_loss", filename=f"{key}_replay_loss", where=box)
    shown = box.selectbox("Beside the original", list(replays), key=f"{key}_forensics_shown")
    for number, (column, (heatmap, ratio)) in enumerate(zip(
            box.columns(2), training_charts.weight_gradient_pair(runs, [label, shown]))):
        ui.chart(heatmap, key=f"{key}_forensics_heatmap_{number}", where=column,
                 filename=f"{key}_replay_weight_gradients_{number}")
        ui.chart(ratio, key=f"{key}_forensics_ratio_{number}", where=column,
                 filename=f"{key}_replay_update_ratio_{number}")


def _replay(table, found: dict, fix: dict, replays: dict) -> None:
    """Train one replay (through the training slots, with progress)."""
    if found["kind"] == "through_time":
        bar = st.progress(0.0, text="Replaying...")
        with training_runs.training_slot():
            replay = forensics.replay_through_time(table, fix, lambda done, total: bar.progress(
                done / total, text=f"Replaying: step {done} of {total}"))
        bar.empty()
        replays[f"replay: {fix['label']}, no clipping"] = replay
        return
    training_runs.train_runs(forensics.replay_runs(table, [fix]),
                             lambda label, replay: replays.__setitem__(label, replay))
