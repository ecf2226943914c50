"""Run the `safetynet` command line in process, as its console script does (warehouse.cli.main)."""

from __future__ import annotations

import io
import os
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from unittest import mock


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    output: str  # stdout, then stderr


def invoke(*args: str, columns: int = 220) -> Outcome:
    """`safetynet ARGS…` with stdout and stderr captured, on a terminal `columns` wide."""
    from warehouse import cli

    out, err = io.StringIO(), io.StringIO()
    with (
        mock.patch.dict(os.environ, {"COLUMNS": str(columns)}),
        # the consoles were made at import: whatever width an earlier test left them, this call has `columns`
        mock.patch.object(cli.console, "_width", columns),
        mock.patch.object(cli.errors, "_width", columns),
        redirect_stdout(out),
        redirect_stderr(err),
    ):
        code = cli.main(list(args))
    return Outcome(code, out.getvalue() + err.getvalue())
