"""Keyboard input for the voting UI: single keys on a terminal, lines otherwise.

On a terminal the keys act at once (cbreak mode, Ctrl-C still interrupts, and the mode
is restored on exit whatever happens). When stdin is a pipe or file, each non-blank line
is one key (its first character) and text answers are whole lines, so a session can be
scripted: ``printf '1\\n2\\nt\\nq\\n' | python interface/voting_ui.py``.
"""
from __future__ import annotations

import contextlib
import os
import select
import sys
from typing import IO

_ARROWS = {"C": ">", "D": "<", "A": "<", "B": ">"}  # right/down = next page, left/up = previous


class KeyInput:
    """``key()`` -> one character, or None at end of input; ``text(prompt)`` -> a line."""

    def __init__(self, stream: IO | None = None, out: IO | None = None):
        self.stream = stream if stream is not None else sys.stdin
        self.out = out if out is not None else sys.stdout
        try:
            self.fd = self.stream.fileno()
            self.is_tty = os.isatty(self.fd)
        except (AttributeError, OSError, ValueError):
            self.fd, self.is_tty = None, False
        self._saved = None

    # -- terminal mode -------------------------------------------------------------
    def __enter__(self) -> "KeyInput":
        if self.is_tty:
            import termios
            import tty

            self._saved = termios.tcgetattr(self.fd)
            tty.setcbreak(self.fd)
        return self

    def __exit__(self, *exc) -> None:
        if self._saved is not None:
            import termios

            with contextlib.suppress(Exception):
                termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)
            self._saved = None

    @contextlib.contextmanager
    def _cooked(self):
        """Normal line editing while the user types a sentence."""
        if self._saved is None:
            yield
            return
        import termios
        import tty

        termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)
        try:
            yield
        finally:
            tty.setcbreak(self.fd)

    # -- reading ---------------------------------------------------------------------
    def _read_char(self) -> str | None:
        data = os.read(self.fd, 1)
        if not data:
            return None
        if data == b"\x1b":  # escape sequence (arrow keys): read what is already waiting
            rest = b""
            while select.select([self.fd], [], [], 0.03)[0]:
                chunk = os.read(self.fd, 8)
                if not chunk:
                    break
                rest += chunk
            return _ARROWS.get(rest[-1:].decode("ascii", "replace"), "") if rest else ""
        while True:  # complete a multi-byte UTF-8 character
            try:
                return data.decode("utf-8")
            except UnicodeDecodeError:
                if len(data) >= 4:
                    return ""
                more = os.read(self.fd, 1)
                if not more:
                    return None
                data += more

    def key(self) -> str | None:
        """The next key pressed (lower-cased), or None when input has ended."""
        if self.is_tty:
            ch = self._read_char()
            if ch is None or ch == "\x04":  # Ctrl-D
                return None
            return ch.lower() if ch.strip() else (" " if ch == " " else "\n")
        while True:
            line = self.stream.readline()
            if not line:
                return None
            if line.strip():
                return line.strip()[0].lower()

    def text(self, prompt: str) -> str:
        """One line of free text ('' when the user just presses Enter or input ended)."""
        self.out.write(prompt)
        self.out.flush()
        with self._cooked():
            line = self.stream.readline() if not self.is_tty else _read_tty_line(self.fd)
        return (line or "").rstrip("\r\n").strip()

    def digit(self, prompt: str, lo: int, hi: int) -> int | None:
        """A number in [lo, hi] as one key (terminal) or one line; anything else -> None."""
        if self.is_tty:
            self.out.write(prompt)
            self.out.flush()
            ch = self._read_char() or ""
            self.out.write((ch if ch.isdigit() else "-") + "\n")
        else:
            self.out.write(prompt + "\n")
            ch = (self.stream.readline() or "").strip()
        self.out.flush()
        return int(ch) if ch.isdigit() and lo <= int(ch) <= hi else None


def _read_tty_line(fd: int) -> str:
    """Read a line from the terminal fd without Python's buffering (keeps later keys exact)."""
    buf = b""
    while True:
        ch = os.read(fd, 1)
        if not ch or ch == b"\n":
            return buf.decode("utf-8", "replace")
        buf += ch
