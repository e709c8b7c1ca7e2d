"""Tables for people: the same rows as an HTML table (notebooks, ``_repr_html_``) or aligned text
(terminals, ``__repr__``). Standard library only, so any layer may use it."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if not math.isfinite(value):
            return "" if math.isnan(value) else str(value)
        return f"{value:.4g}"
    return "" if value is None else str(value)


def text_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], title: str = "") -> str:
    """Rows as aligned plain text, numbers right-aligned, with an optional title line."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    numeric = [all(isinstance(row[i], (int, float)) for row in rows) for i in range(len(columns))]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True)
        ).rstrip()

    out = [title] if title else []
    out += [line(columns), line(["-" * w for w in widths]), *(line(r) for r in cells)]
    return "\n".join(out)


def html_table(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], title: str = "", notes: Sequence[str] = ()
) -> str:
    """Rows as an HTML table with an optional caption and notes under it (escaped)."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>" for row in rows
    )
    caption = f"<caption>{html.escape(title)}</caption>" if title else ""
    foot = "".join(f"<p><small>{html.escape(n)}</small></p>" for n in notes)
    return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{foot}"
