"""The course notes' study-diary strip: today's date and two day counters."""
from __future__ import annotations

import datetime as dt

NOTES_START = dt.date(2025, 8, 18)  # the day the course notes' diary starts
PROJECT_START = dt.date(2026, 11, 23)  # Gradient Lab's first commit


def diary(today: dt.date | None = None) -> dict:
    today = today or dt.date.today()
    return {"today": today.strftime("%a %d %b %Y"),
            "days_since_notes": (today - NOTES_START).days,
            "project_day": (today - PROJECT_START).days + 1}  # the first day is day 1
