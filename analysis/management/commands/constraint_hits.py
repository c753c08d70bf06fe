"""Check or rebuild the capability-gap Pareto's rollup (analysis.rollups).

    manage.py constraint_hits            # compare with the definition; exit 1 on any difference
    manage.py constraint_hits --rebuild  # recompute it all, e.g. after an import or a SQL fix
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from analysis import rollups


class Command(BaseCommand):
    help = "Check the Pareto's constraint-hit rollup against its definition, or rebuild it (--rebuild)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rebuild", action="store_true", help="Recompute every row from assessments and answers.")

    def handle(self, *args: Any, rebuild: bool, **options: Any) -> None:
        started = time.monotonic()
        if rebuild:
            written = rollups.rebuild_constraint_hits()
            self.stdout.write(self.style.SUCCESS(
                f"Rebuilt the constraint hits: {written:,} rows in {time.monotonic() - started:.1f} s."
            ))
            return
        count, examples = rollups.constraint_hit_differences()
        if count:
            for line in examples:
                self.stderr.write(line)
            raise CommandError(
                f"{count:,} constraint-hit rows differ from the assessments and answers; "
                "run `manage.py constraint_hits --rebuild`."
            )
        self.stdout.write(self.style.SUCCESS(
            f"The constraint hits match the assessments and answers ({time.monotonic() - started:.1f} s)."
        ))
