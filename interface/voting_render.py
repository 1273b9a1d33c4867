"""Text layout for the voting screen: wrapping, side by side or stacked, pages.

Pure string functions (no terminal I/O) so they are easy to test. Model output is
untrusted: :func:`clean` strips ANSI escapes and control characters before anything
reaches the terminal.
"""
from __future__ import annotations

import re
import textwrap

SIDE_BY_SIDE_MIN_WIDTH = 100  # below this two columns get too narrow to read
GUTTER = " │ "
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]")
_CTRL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

KEY_HELP = """\
Keys
  1 / a   the first (left) response is better
  2 / b   the second (right) response is better
  t       tie: both equally good
  n       both bad
  s       skip this pair (not a vote; it comes back next session)
  u       undo the last vote of this session (a retraction is appended)
  > / <   next / previous page when the pair does not fit the screen
  ?       this help
  q       quit (every vote so far is already saved; rerun to resume)"""


def clean(text: str) -> str:
    """Drop terminal escapes and control characters; keep newlines, turn tabs into spaces."""
    text = _ANSI.sub("", text or "").replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    return _CTRL.sub("", text)


def wrap(text: str, width: int) -> list[str]:
    """Wrap each paragraph to ``width`` columns, keeping blank lines between them."""
    width = max(10, width)
    lines: list[str] = []
    for para in clean(text).split("\n"):
        if not para.strip():
            lines.append("")
            continue
        lines.extend(textwrap.wrap(para, width, replace_whitespace=False, drop_whitespace=True,
                                   break_long_words=True, break_on_hyphens=False) or [""])
    while lines and not lines[-1]:
        lines.pop()
    return lines or ["(empty response)"]


def side_by_side(left: list[str], right: list[str], col: int) -> list[str]:
    n = max(len(left), len(right))
    left = left + [""] * (n - len(left))
    right = right + [""] * (n - len(right))
    return [f"{a:<{col}}{GUTTER}{b}".rstrip() for a, b in zip(left, right)]


def render_pair(prompt: str, first: str, second: str, width: int) -> list[str]:
    """All lines of one pair: the prompt, then [1] and [2] side by side or stacked."""
    width = max(40, width)
    rule = "─" * width
    lines = ["PROMPT", *wrap(prompt, width), rule]
    if width >= SIDE_BY_SIDE_MIN_WIDTH:
        col = (width - len(GUTTER)) // 2
        head = side_by_side(["[1] first"], ["[2] second"], col)
        lines += head + side_by_side(wrap(first, col), wrap(second, col), col)
    else:
        lines += ["[1] first", *wrap(first, width), rule, "[2] second", *wrap(second, width)]
    lines.append(rule)
    return lines


def paginate(lines: list[str], height: int) -> list[list[str]]:
    """Split into pages of ``height`` lines (at least 5); one page when it fits."""
    height = max(5, height)
    return [lines[i:i + height] for i in range(0, len(lines), height)] or [[]]


def progress_line(position: int, total: int, voted: int, skipped: int, repeat: bool = False) -> str:
    """E.g. "Pair 17 of 40 · 15 voted, 3 skipped"."""
    tag = " · gold repeat" if repeat else ""
    return f"Pair {position} of {total} · {voted} voted, {skipped} skipped{tag}"
