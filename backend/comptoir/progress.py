"""A one-line progress bar for the command line's long runs (catalog imports, accounting
exports)."""

from __future__ import annotations

from typing import TextIO

__all__ = ["ProgressBar"]


class ProgressBar:
    """A one-line bar on a terminal (stderr); silent when the output is not a terminal."""

    def __init__(self, stream: TextIO, label: str = "importing", width: int = 30,
                 enabled: bool | None = None, unit: str = "rows") -> None:
        self.stream = stream
        self.label = label
        self.unit = unit
        self.width = width
        self.enabled = stream.isatty() if enabled is None else enabled
        self.total = 0
        self.done = 0
        self._drawn = ""

    def start(self, total: int) -> None:
        self.total, self.done = total, 0
        self._draw()

    def advance(self, n: int = 1) -> None:
        self.done = min(self.total, self.done + n)
        self._draw()

    def finish(self) -> None:
        if self.enabled and self._drawn:
            self.stream.write("\n")
            self.stream.flush()

    def render(self) -> str:
        fraction = self.done / self.total if self.total else 1.0
        filled = round(fraction * self.width)
        bar = "#" * filled + "." * (self.width - filled)
        return f"{self.label} [{bar}] {fraction:4.0%} {self.done}/{self.total} {self.unit}"

    def _draw(self) -> None:
        line = self.render()
        if self.enabled and line != self._drawn:
            self.stream.write("\r" + line)
            self.stream.flush()
            self._drawn = line
