"""What a generation produced, printable with rich."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.table import Table


@dataclass(frozen=True)
class GenerationSummary:
    files: int
    rows: int
    households: int
    persons: int
    planted_scenarios: int
    seconds: float
    truth_rows: dict[str, int] = field(default_factory=dict)
    checked: bool = False

    def __rich__(self) -> Table:
        table = Table(title="Synthetic province", show_header=False)
        table.add_column(style="bold")
        table.add_column(justify="right")
        for label, value in (
            ("files delivered", f"{self.files:,}"),
            ("rows delivered", f"{self.rows:,}"),
            ("households (background)", f"{self.households:,}"),
            ("persons", f"{self.persons:,}"),
            ("planted scenarios", f"{self.planted_scenarios:,}"),
            *((name.replace("_", " "), f"{n:,}") for name, n in sorted(self.truth_rows.items())),
            ("truth checked independently", "yes" if self.checked else "no"),
            ("seconds", f"{self.seconds:.1f}"),
        ):
            table.add_row(label, value)
        return table
