"""Import customers, products or sales teams from the ERP's CSV or Excel export.

    manage.py import_master_data customers customers.xlsx --dry-run
    manage.py import_master_data products parts.csv

Prints what would change (dry run) or changed, and every bad row with its reason; a file with a
bad row saves nothing and the command exits with status 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from import_export.formats.base_formats import CSV, XLSX

from requests_app.resources import RESOURCES

FORMATS = {".csv": CSV, ".xlsx": XLSX}


class Command(BaseCommand):
    help = "Import master data (customers, products or sales teams) from a CSV or Excel file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=sorted(RESOURCES), help="What the file holds.")
        parser.add_argument("file", type=Path, help="A .csv (UTF-8, with or without BOM) or .xlsx file with a header row.")
        parser.add_argument("--dry-run", action="store_true", help="Show what would change; save nothing.")

    def handle(self, *args: Any, kind: str, file: Path, dry_run: bool, **options: Any) -> None:
        format_class = FORMATS.get(file.suffix.lower())
        if format_class is None:
            raise CommandError(f"{file.name}: use a .csv or .xlsx file.")
        try:
            raw = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"{file}: {exc.strerror}.") from None
        fmt = format_class()
        try:
            dataset = fmt.create_dataset(raw if fmt.is_binary() else raw.decode("utf-8-sig"))
        except Exception as exc:  # a corrupt workbook, a CSV that is not UTF-8
            raise CommandError(f"{file.name} could not be read as {format_class.__name__}: {exc}") from None

        result = RESOURCES[kind]().import_data(dataset, dry_run=dry_run, raise_errors=False, use_transactions=True)

        problems = [*self._invalid(result), *self._errors(result)]
        totals = result.totals
        summary = (f"{kind}: {totals['new']} new, {totals['update']} updated, {totals['skip']} unchanged, "
                   f"{len(problems)} with errors")
        if problems:
            self.stderr.write("\n".join(problems))
            raise CommandError(f"{summary}. Nothing was saved; correct the rows above and import again.")
        self.stdout.write(summary + (" (dry run: nothing saved)." if dry_run else "."))

    @staticmethod
    def _invalid(result: Any) -> list[str]:
        lines = []
        for row in result.invalid_rows:
            for field, messages in row.error_dict.items():
                where = "" if field == "__all__" else f"{field}: "
                lines.append(f"Row {row.number + 1}: {where}{' '.join(messages)}")
        return lines

    @staticmethod
    def _errors(result: Any) -> list[str]:
        return [f"Row {number + 1}: {error.error}" for number, errors in result.row_errors() for error in errors]
