"""County warning workbooks and the province summary from the published mart (docs/outputs.md#county-workbooks)."""

from warehouse.exports.run import ExportedFile, ExportSummary, export_run

__all__ = ["ExportSummary", "ExportedFile", "export_run"]
