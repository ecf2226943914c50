"""What an analysts' notebook prints when it runs as a plain script (`python notebooks/<name>.py`).

marimo runs every cell of the notebook (`app.run()`) but shows nothing outside its editor; the notebooks
call `print_results` on what their cells defined, so a headless run (cron, CI, a terminal) gives the same
tables the notebook shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TextIO

import polars as pl


def print_results(defs: Mapping[str, Any], tables: Mapping[str, str], out: TextIO | None = None) -> int:
    """Print each named frame of `defs` under its title; returns how many were printed.

    A name the run did not define (the notebook stopped early: no published mart yet) is reported as such.
    """
    printed = 0
    with pl.Config(tbl_rows=25, tbl_cols=14, fmt_str_lengths=40, tbl_width_chars=180, tbl_hide_dataframe_shape=True):
        for name, title in tables.items():
            frame = defs.get(name)
            if not isinstance(frame, pl.DataFrame):
                print(f"\n== {title}: not computed (is there a published mart? set SAFETYNET_DATA)", file=out)
                continue
            print(f"\n== {title} ({frame.height} rows)", file=out)
            print(frame, file=out)
            printed += 1
    return printed
