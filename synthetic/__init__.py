"""The synthetic province generator and its ground truth (the project's main test fixture).

`generate_province(root, households=, months=, seed=, run_date=)` writes `<root>/inbox/` (every
department delivery of the history, messy within docs/extracts.md) and `<root>/truth/` (what a correct
platform must land, reject, raise and decide at the run date). See README.md in this folder.
"""

from synthetic.generate import GenerationError, generate_province
from synthetic.summary import GenerationSummary

__all__ = ["GenerationError", "GenerationSummary", "generate_province"]
