"""County warning workbooks and the province summary (spec/OUTPUTS.md §3), written from the published mart."""

from warehouse.exports.run import ExportedFile, ExportSummary, export_run

__all__ = ["ExportSummary", "ExportedFile", "export_run"]
