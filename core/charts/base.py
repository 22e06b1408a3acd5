"""Chart builders shared by every page: pure functions from DataFrames to Altair charts.

Log axes cannot show 0, inf or nan, yet these are real outcomes here (underflow,
overflow). `log_chart` keeps them visible: such points are pinned to the bottom or the
top edge of the plot with their own marker shape and a tooltip that says what they are.
"""
from __future__ import annotations

import functools
import hashlib
import math
import textwrap
import threading
from collections import OrderedDict

import altair as alt
import numpy as np
import pandas as pd

from ..summary import format_value  # noqa: F401 - the one number formatter, for charts

# Okabe & Ito's colour-blind-safe palette (black swapped for a mid grey, which stays
# visible on a dark theme), extended to 12 with four more of mid luminance, so that
# series on one chart never share a colour up to 12.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442",
           "#882255", "#999933", "#8C564B", "#6A3D9A", "#888888"]
SUBTITLE_WIDTH = 90  # characters per subtitle line: subtitles wrap instead of being cut
STATUS_SHAPES = {"finite": "circle", "overflow (inf)": "triangle-up",
                 "not a number (nan)": "diamond", "underflow (0)": "triangle-down",
                 "negative": "square"}
FLOAT_MAX = float(np.finfo(np.float64).max)  # 1.8e308
FLOAT_TINY = float(np.finfo(np.float64).tiny)  # 2.2e-308, the smallest normal float64
# The axis titles every chart uses: one spelling each.
LAYER_TITLE = "hidden layer l (1 = nearest the input)"
LAYER_SHORT_TITLE = "layer (1 = input side)"  # a heatmap's narrow y axis
STEP_TITLE = "training step"
TIME_STEP_TITLE = "time step t (1 = first input, T = last state)"
FRACTION_TITLE = "fraction of units"
# Where float32 stops: drawn on a log chart whose axis reaches them.
FLOAT32_LINES = {float(np.finfo(np.float32).max): "float32 max 3.4e38",
                 float(np.finfo(np.float32).tiny): "float32 smallest normal 1.2e-38"}


class _Unkeyable(TypeError):
    """An argument remembered() cannot reduce to a content key: the call is not kept."""


def content_key(value):
    """A hashable key equal for equal contents: DataFrames (columns, dtypes, index,
    values, attrs), Series, arrays, dicts, lists, tuples, strings and numbers (nan
    included). Anything else raises _Unkeyable."""
    if isinstance(value, pd.DataFrame):
        try:
            rows = pd.util.hash_pandas_object(value, index=True).to_numpy()
        except TypeError as error:  # unhashable cells (lists, dicts)
            raise _Unkeyable(str(error)) from None
        return ("frame", tuple(map(str, value.columns)), tuple(map(str, value.dtypes)),
                hashlib.blake2b(rows.tobytes(), digest_size=16).digest(),
                content_key(dict(value.attrs)))
    if isinstance(value, pd.Series):
        return ("series", str(value.name), content_key(value.to_frame()))
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            raise _Unkeyable("an object array")
        return ("array", str(value.dtype), value.shape,
                hashlib.blake2b(np.ascontiguousarray(value).tobytes(),
                                digest_size=16).digest())
    if isinstance(value, dict):
        return ("dict", tuple(sorted((repr(k), content_key(v)) for k, v in value.items())))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(content_key(item) for item in value))
    if value is None:
        return None
    if isinstance(value, (bool, int, str)):
        return (type(value).__name__, value)  # True == 1, but not as a chart's input
    if isinstance(value, (float, np.floating, np.integer, np.bool_)):
        return (type(value).__name__, repr(value))  # nan == nan here, 1 != 1.0
    raise _Unkeyable(type(value).__name__)


_REMEMBERED: OrderedDict = OrderedDict()  # (function, content key) -> chart
_remembered_lock = threading.Lock()
REMEMBER = {"entries": 256}  # how many charts the process keeps; 0 turns remembering off


def remembered(function):
    """Decorator for a chart function: equal inputs give back the very same chart object.

    A page rebuilds every chart at every rerun, though most of a rerun's inputs are
    the same as the last one's; building an Altair chart (and copying it, as Altair
    does at every method call) was a third of the Initialization page's rerun. The key
    is the arguments' contents (content_key), the last REMEMBER["entries"] charts are
    kept, process-wide. The charts are shared: a caller must not change one in place
    (Altair's methods return copies, so .properties() and friends are safe). An
    argument with no content key (an object) makes the call a plain one.
    """
    @functools.wraps(function)
    def chart(*args, **kwargs):
        if not REMEMBER["entries"]:
            return function(*args, **kwargs)
        try:
            key = (function.__qualname__, content_key(args), content_key(kwargs))
        except _Unkeyable:
            return function(*args, **kwargs)
        with _remembered_lock:
            if key in _REMEMBERED:
                _REMEMBERED.move_to_end(key)
                return _REMEMBERED[key]
        made = function(*args, **kwargs)  # two threads may both build it: same result
        with _remembered_lock:
            _REMEMBERED[key] = made
            while len(_REMEMBERED) > REMEMBER["entries"]:
                _REMEMBERED.popitem(last=False)
        return made
    chart.unremembered = function
    return chart


def _short(value: float, digits: int) -> str:
    """65504, 3.4e38, 6.1e-5: a limit as a label writes it."""
    if 1 <= value < 1e6 and value == int(value):
        return str(int(value))
    mantissa, exponent = f"{value:.{digits}g}".split("e")
    return f"{mantissa}e{int(exponent)}"


def format_lines(formats=("float32",)) -> list[tuple[float, str, str]]:
    """(value, label, meaning) of each format's limits, from core.summary.float_limits:
    its max (inf above), its smallest normal and, where TensorFlow keeps subnormals
    (float16), its smallest subnormal. Limits of two formats within 1% of each other
    (float32's and bfloat16's) share one line and one label."""
    from ..summary import float_limits
    lines = []  # (value, format, what, number, meaning)
    for dtype in formats:
        limits = float_limits(dtype)
        keeps = limits["keeps_subnormals"]
        lines.append((limits["max"], dtype, "max", _short(limits["max"], 3),
                      "overflow to inf above"))
        lines.append((limits["smallest_normal"], dtype, "smallest normal",
                      _short(limits["smallest_normal"], 2),
                      "subnormals below (fewer digits)" if keeps else
                      "flushed to 0 below (TensorFlow on the CPU)"))
        if keeps:
            lines.append((limits["smallest_subnormal"], dtype, "smallest subnormal",
                          _short(limits["smallest_subnormal"], 2),
                          "rounds to 0 below half of it"))
    groups: list[list] = []
    for line in sorted(lines):
        if groups and line[0] <= groups[-1][0][0] * 1.01:
            groups[-1].append(line)
        else:
            groups.append([line])
    merged = []
    for group in groups:
        names = ", ".join(line[1] for line in group)
        numbers = list(dict.fromkeys(line[3] for line in group))
        what = group[0][2] if len({line[2] for line in group}) == 1 else "limit"
        label = f"{names} {what} {' / '.join(numbers)}"
        meaning = "; ".join(dict.fromkeys(f"{line[4]}" for line in group))
        merged.append((group[0][0], label, meaning))
    return merged


def spec_number(value, low: float = -FLOAT_MAX, high: float = FLOAT_MAX) -> float:
    """`value` as a number a chart spec can hold: a finite Python float in [low, high].

    Every computed number put in a spec (axis edges, caps, reference lines) goes through
    here. A Python int such as 10 ** 39 is exact in Python but not JSON a converter can
    read (vl-convert: "integer ... as u128"; numpy: "int too large to convert to C
    long"), and inf is not JSON at all: both are clamped to the range. nan has no
    place on an axis and raises ValueError.
    """
    try:
        number = float(value)
    except OverflowError:  # an int beyond the float range
        number = math.inf if value > 0 else -math.inf
    if math.isnan(number):
        raise ValueError("nan cannot be placed in a chart spec")
    return min(max(number, low), high)


def colors(count: int) -> list:
    """`count` colours from PALETTE, cycling when there are more series than colours."""
    return (PALETTE * (count // len(PALETTE) + 1))[:max(count, 1)]


def heading(title: str, subtitle: str | list[str] | None = None,
            width: int = SUBTITLE_WIDTH) -> alt.TitleParams:
    """A chart title, anchored left, whose subtitle wraps into lines of `width`."""
    parts = [subtitle] if isinstance(subtitle, str) else list(subtitle or [])
    lines = [line for part in parts for line in (textwrap.wrap(part, width) or [""])]
    return alt.TitleParams(title, subtitle=lines, anchor="start")


def integer_axis(title: str | None = None, **kwargs) -> alt.Axis:
    """An axis of whole numbers (layers, steps): integer ticks only."""
    if title is not None:
        kwargs["title"] = title
    return alt.Axis(format="d", tickMinStep=1, **kwargs)


def value_status(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    status = np.full(values.shape, "finite", dtype=object)
    status[values == 0] = "underflow (0)"
    status[values < 0] = "negative"
    status[np.isinf(values)] = "overflow (inf)"
    status[np.isnan(values)] = "not a number (nan)"
    return status


def pin_for_log(long: pd.DataFrame, value: str = "value") -> tuple[pd.DataFrame, list]:
    """Add `plotted`, `status` and `exact` columns; return the data and the y domain."""
    data = long.copy()
    values = data[value].to_numpy(dtype=np.float64)
    status = value_status(values)
    good = values[(status == "finite")]
    if good.size:
        low, high = float(good.min()), float(good.max())
    else:
        low, high = 1e-3, 1e3
    # Half a decade of room, rounded out to powers of ten, within the float64 range.
    low_edge = spec_number(10 ** math.floor(math.log10(low) - 0.5), FLOAT_TINY)
    high_edge = spec_number(10 ** math.ceil(math.log10(high) + 0.5), FLOAT_TINY)
    plotted = values.copy()
    plotted[status == "underflow (0)"] = low_edge
    plotted[status == "negative"] = low_edge
    plotted[(status == "overflow (inf)") | (status == "not a number (nan)")] = high_edge
    data["plotted"] = plotted
    data["status"] = status
    data["exact"] = [format_value(v) for v in values]
    return data, [low_edge, high_edge]


class Layered(alt.LayerChart):
    """An alt.LayerChart whose layers are already in their final form.

    alt.LayerChart.__init__ deep-copies every layer to hoist shared data and params,
    and Altair calls the constructor again on every copy, to_dict() included (once
    per rerun, in Streamlit). log_chart builds its layers as that processing would
    leave them (data on the outer chart, the legend selection there too, naming its
    view), so this constructor only stores them. tests/test_charts_base.py checks the
    spec equals what alt.LayerChart makes of the same layers.
    """

    def __init__(self, data=alt.Undefined, layer=(), **kwargs):
        alt.TopLevelLayerSpec.__init__(self, data=data, layer=list(layer), **kwargs)


@functools.lru_cache(maxsize=None)
def legend_pick_name(field: str) -> str:
    """The name Altair gives a legend-bound point selection on `field`, computed once.

    Unnamed, `alt.selection_point` names itself by hashing its own `to_dict()`, which
    runs the schema validation on every call (0.37 ms against 0.007 ms named; py-spy
    attributed far more to it in a class of 30 than the class's times showed). Named
    with that same hash, the chart's spec is unchanged."""
    return alt.selection_point(fields=[field], bind="legend").name


def log_chart(long: pd.DataFrame, *, x: str, x_title: str, y_title: str, title: str,
              series: str = "series", value: str = "value", dash: str | None = None,
              height: int = 320, subtitle: str | None = None,
              color: str | None = None, formats=("float32",)) -> Layered:
    """Lines on a log y axis, one per `series`, with 0/inf/nan pinned and marked.

    `dash`: a column whose value "theory" marks rows drawn as a dashed line on top of
    the measured ones (theory rows get no point markers).
    `color`: the column that picks the colour (default: a "group" column if the table
    has one, else `series`); a measured line and its theory line share a group, so they
    share a colour and differ in dash. Clicking a legend entry highlights its lines.
    Reference marks go on top with core.charts.profiles.add_layers. `formats`: the number
    formats (core.summary.FORMATS) whose limits are drawn where the axis reaches them.

    Built from Altair's constructors, each layer once, with the data on the outer
    chart: chaining (.encode, .transform_filter, alt.layer) deep-copies the whole chart
    at every step and made this 3-4x slower for the same Vega-Lite spec.
    """
    data, domain = pin_for_log(long, value)
    color = color or ("group" if "group" in data.columns else series)
    names = list(dict.fromkeys(data[color]))
    pick = alt.selection_point(name=legend_pick_name(color), fields=[color], bind="legend")
    legend = alt.Legend(orient="top", direction="vertical", labelLimit=500,
                        title="click to highlight" if len(names) > 1 else None,
                        titleFontWeight="normal", titleFontStyle="italic")
    y = alt.Y("plotted:Q", title=y_title,
              scale=alt.Scale(type="log", domain=domain, clamp=True),
              axis=alt.Axis(format=".0e", tickCount=8))
    whole = pd.api.types.is_integer_dtype(data[x])  # layers and steps: integer ticks
    encoding = dict(
        x=alt.X(f"{x}:Q", title=x_title, axis=integer_axis() if whole else alt.Axis()),
        y=y, detail=alt.Detail(f"{series}:N"),
        color=alt.Color(f"{color}:N", legend=legend,
                        scale=alt.Scale(domain=names, range=colors(len(names)))),
        tooltip=[alt.Tooltip(f"{series}:N", title="series"),
                 alt.Tooltip(f"{x}:Q", title=x_title),
                 alt.Tooltip("exact:N", title=y_title),
                 alt.Tooltip("status:N", title="value")])
    finite = alt.FilterTransform(alt.datum.status == "finite")
    measured = [alt.FilterTransform(alt.datum[dash] != "theory")] if dash else []
    present = [status for status in STATUS_SHAPES
               if status in set(data["status"]) and status != "finite"]
    shown = ["finite"] + present
    faded = alt.value(0.12)
    line = {"opacity": alt.condition(pick, alt.value(1.0), faded)}
    if dash:  # one legend for the line styles: solid measured, dashed theory
        kinds = sorted(set(data[dash]), key=lambda kind: kind == "theory")
        line["strokeDash"] = alt.StrokeDash(
            f"{dash}:N", title=None, legend=alt.Legend(orient="top", symbolStrokeWidth=2),
            scale=alt.Scale(domain=kinds, range=[[6, 4] if kind == "theory" else [1, 0]
                                                 for kind in kinds]))

    def layer(mark: alt.MarkDef, transform: list, **channels) -> alt.Chart:
        return alt.Chart(mark=mark, transform=transform or alt.Undefined,
                         encoding=alt.FacetedEncoding(**encoding, **channels))

    layers = [
        layer(alt.MarkDef(type="line", strokeWidth=2.5), measured + [finite], **line),
        layer(alt.MarkDef(type="point", filled=True), measured,
              shape=alt.Shape("status:N", scale=alt.Scale(
                  domain=shown, range=[STATUS_SHAPES[s] for s in shown]),
                  legend=alt.Legend(orient="bottom", title=None) if present else None),
              size=alt.condition(alt.datum.status == "finite", alt.value(18),
                                 alt.value(50)),
              opacity=alt.condition(pick, alt.value(0.8), faded)),
    ]
    if dash:
        layers.append(layer(alt.MarkDef(type="line", strokeWidth=2),
                            [alt.FilterTransform(alt.datum[dash] == "theory"), finite],
                            **line))
    layers += float32_lines(domain, y, formats)
    # The chart's height includes its legends: add room for the one at the top.
    height += 18 * (len(names) + (len(names) > 1)) + (30 if present else 0)
    # The legend selection lives on the outer chart and names the view it acts on, where
    # alt.LayerChart would move it.
    layers[0].name = f"view_{pick.name}"
    selection = alt.TopLevelSelectionParameter(name=pick.name, select=pick.param.select,
                                               bind=pick.param.bind, views=[layers[0].name])
    return Layered(data=data, layer=layers, params=[selection],
                   title=heading(title, subtitle), height=height, width="container")


def float32_lines(domain: list, y: alt.Y, formats=("float32",)) -> list:
    """Labelled dashed rules at the limits of `formats` (float32's by default) that lie
    inside the log axis `domain`.

    `y`: the chart's own y encoding (its field is `plotted`), so the rules share its
    scale and title.
    """
    inside = [line for line in format_lines(formats) if domain[0] <= line[0] <= domain[1]]
    if not inside:
        return []
    rows = pd.DataFrame(inside, columns=["plotted", "label", "meaning"])
    tooltip = [alt.Tooltip("label:N", title="limit"),
               alt.Tooltip("meaning:N", title="what happens")]
    return [alt.Chart(rows, mark=alt.MarkDef(type="rule", color="#555555",
                                             strokeDash=[2, 3], strokeWidth=1),
                      encoding=alt.FacetedEncoding(y=y, tooltip=tooltip)),
            alt.Chart(rows, mark=alt.MarkDef(type="text", align="left", baseline="bottom",
                                             dx=4, dy=-2, fontSize=11, color="#555555"),
                      encoding=alt.FacetedEncoding(y=y, tooltip=tooltip, x=alt.value(0),
                                                   text=alt.Text("label:N")))]


def long_format(df: pd.DataFrame, x: str, columns: dict[str, str],
                kind: str = "measured") -> pd.DataFrame:
    """Wide table -> rows of (x, series label, value, kind) for log_chart."""
    frames = [pd.DataFrame({x: df[x], "series": label, "value": df[column], "kind": kind})
              for column, label in columns.items()]
    return pd.concat(frames, ignore_index=True)
