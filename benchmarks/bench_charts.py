"""The charts of one page view: building them and converting them as Streamlit does.

For the charts The problem, Why it happens and Initialization draw on a new setting,
prints, measured in this one process, the median milliseconds per page view of
  naive: Altair's defaults, as an untuned server runs them: debug mode on (every
         schema object validated as it is built) and to_dict() validating the spec;
  ours:  as pages/server.py runs them: debug mode off and to_dict(validate=False)
         (the tests validate every chart's spec once).
Both build the charts with the code of the checkout on PYTHONPATH, so running it with
PYTHONPATH at an older commit measures that commit's chart builders the same way.

Run: PYTHONPATH=. .venv/bin/python benchmarks/bench_charts.py [--repeats 5]
"""
import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def page_charts():
    """(page, function building that page's charts from precomputed tables)."""
    from core.charts import grids, profiles
    from core.experiments import initialization, problem, why
    from core.per_layer import profile
    from core.spec import ModelSpec
    table = profile(problem.identity_spec(50, 1.5, "float32"))
    identity = problem.chart_data(table, 1.5, table.attrs["input_norm"])
    histograms, gb_profiles, _ = why.glorot_bengio("tanh", 8)
    run = why.variance_propagation("tanh", "glorot_normal", 30, 128)
    base = ModelSpec(depth=30, width=128, batch_size=128, activation="relu")
    side = initialization.compare(base, ("glorot_normal", "he_normal"))
    sweep = initialization.sweep(depth=30, width=128)
    edges = initialization.edges_of_chaos()
    first = histograms["init"].iloc[0]
    pages = {
        "problem": lambda: list(profiles.identity_charts(identity)),
        "why": lambda: [profiles.histogram_chart(histograms[histograms["init"] == first],
                                                 first),
                        profiles.by_init_chart(gb_profiles, "saturated_fraction", "t",
                                               "saturated units", fraction=True),
                        profiles.signal_by_init_chart(gb_profiles),
                        profiles.variance_chart(run["table"], "t")],
        "initialization": lambda: [profiles.forward_std_chart(side),
                                   profiles.backward_signal_chart(side),
                                   profiles.gain_chart(side),
                                   grids.sweep_chart(sweep, edges, 30)],
    }
    return pages


def view(build, validate: bool) -> float:
    start = time.perf_counter()
    for chart in build():
        chart.to_dict(validate=validate)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    from altair.utils import schemapi
    pages = page_charts()
    for page, build in pages.items():
        view(build, True)  # imports and first-use costs outside the timings
        times = {}
        for name, debug, validate in (("naive", True, True), ("ours", False, False)):
            (schemapi.enable_debug_mode if debug else schemapi.disable_debug_mode)()
            times[name] = statistics.median(view(build, validate)
                                            for _ in range(args.repeats))
        schemapi.enable_debug_mode()
        print(f"{page}: charts of one view: naive {times['naive'] * 1000:.0f} ms, ours "
              f"{times['ours'] * 1000:.0f} ms ({times['naive'] / times['ours']:.1f}x)",
              flush=True)


if __name__ == "__main__":
    main()
