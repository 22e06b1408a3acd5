"""Chart files: PNG, SVG, and one zip of both for many charts, rendered offline.

Pure (no streamlit): pages/ui.py offers these as downloads, tests call them directly.
vl_convert is imported only when a file is made, so importing this module is cheap.
A chart that cannot be converted raises ExportError with a one-line reason.
"""
from __future__ import annotations

import io
import json
import math
import re
import zipfile

EXPORT_WIDTH = 800  # pixels: charts drawn at the container's width need one to be saved
# vl-convert draws with the fonts installed; its generic "sans-serif" can fall back to a
# serif face, and not every font has the ‖ and − glyphs the titles use.
EXPORT_FONT = "DejaVu Sans, Liberation Sans, Helvetica, Arial, sans-serif"
PNG_SCALE = 2  # twice the size: sharp on projectors
# The largest integer every JSON reader holds exactly (a double's 53-bit mantissa).
LARGEST_SAFE_INT = 2 ** 53


class ExportError(Exception):
    """A chart could not be turned into a file; the message says why, in one line."""


def export_spec(figure) -> dict:
    """The chart's Vega-Lite spec with every width="container" set to EXPORT_WIDTH."""
    def fix(node):
        if isinstance(node, dict):
            return {key: EXPORT_WIDTH if key == "width" and value == "container"
                    else fix(value) for key, value in node.items()}
        if isinstance(node, list):
            return [fix(item) for item in node]
        return node
    spec = fix(figure if isinstance(figure, dict) else json.loads(figure.to_json()))
    spec.setdefault("config", {}).setdefault("font", EXPORT_FONT)
    return spec


def unsafe_numbers(spec, path: str = "spec") -> list[str]:
    """Where `spec` holds a number a JSON converter cannot read: inf, nan, or an int
    beyond 2**53 (vl-convert rejects 10**24). Each entry: 'path = value'."""
    found = []
    if isinstance(spec, dict):
        for key, value in spec.items():
            found += unsafe_numbers(value, f"{path}.{key}")
    elif isinstance(spec, list):
        for index, value in enumerate(spec):
            found += unsafe_numbers(value, f"{path}[{index}]")
    elif isinstance(spec, bool):
        pass
    elif isinstance(spec, int) and abs(spec) > LARGEST_SAFE_INT:
        found.append(f"{path} = {spec:.3g}")
    elif isinstance(spec, float) and not math.isfinite(spec):
        found.append(f"{path} = {spec}")
    return found


def _checked(figure) -> dict:
    spec = export_spec(figure)
    bad = unsafe_numbers(spec)
    if bad:
        raise ExportError(f"the chart holds {len(bad)} number(s) no converter can read, "
                          f"first {bad[0]}")
    return spec


def _convert(kind: str, render, spec: dict):
    try:
        return render(spec)
    except Exception as error:  # vl-convert raises ValueError, or a Rust panic
        reason = " ".join(str(error).split())[:300] or type(error).__name__
        raise ExportError(f"{kind} conversion failed: {reason}") from error


def chart_png(figure) -> bytes:
    """The chart (an Altair chart or its spec) as a PNG at PNG_SCALE times its size."""
    import vl_convert
    return _convert("PNG", lambda spec: vl_convert.vegalite_to_png(spec, scale=PNG_SCALE),
                    _checked(figure))


def chart_svg(figure) -> str:
    """The chart (an Altair chart or its spec) as SVG text."""
    import vl_convert
    return _convert("SVG", vl_convert.vegalite_to_svg, _checked(figure))


def safe_filename(name: str) -> str:
    """A file name without path separators or characters some systems refuse."""
    return re.sub(r"[^\w.=+-]+", "_", str(name)).strip("._") or "chart"


def charts_zip(named_charts) -> bytes:
    """A zip holding name.png and name.svg for every (name, chart) pair (or dict item).

    Repeated names get a numbered suffix. Raises ExportError naming the chart that
    failed; no partial zip is returned.
    """
    items = named_charts.items() if isinstance(named_charts, dict) else named_charts
    buffer = io.BytesIO()
    used: set[str] = set()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, figure in items:
            stem = base = safe_filename(name)
            number = 2
            while stem in used:
                stem, number = f"{base}_{number}", number + 1
            used.add(stem)
            try:
                archive.writestr(f"{stem}.png", chart_png(figure))
                archive.writestr(f"{stem}.svg", chart_svg(figure))
            except ExportError as error:
                raise ExportError(f"chart {stem}: {error}") from error
    return buffer.getvalue()
