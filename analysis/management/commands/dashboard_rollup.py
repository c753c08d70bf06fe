"""Check or rebuild the dashboard's day rollup (analysis.dashboard_rollup). PostgreSQL only.

    manage.py dashboard_rollup            # compare with the definition; exit 1 on any difference
    manage.py dashboard_rollup --rebuild  # reinstall the triggers and recompute it all
                                          # (after changing TIME_ZONE, or restoring a table by hand)
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from analysis import dashboard_rollup


class Command(BaseCommand):
    help = ("Check the dashboard's day rollup against the requests, assessments, acknowledgements and constraint "
            "hits, or rebuild it (--rebuild).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rebuild", action="store_true", help="Reinstall the triggers and recompute every row.")

    def handle(self, *args: Any, rebuild: bool, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("The day rollup exists on PostgreSQL only; on SQLite the dashboard reads live.")
        started = time.monotonic()
        if rebuild:
            rows = dashboard_rollup.rebuild()
            self.stdout.write(self.style.SUCCESS(
                f"Rebuilt the day rollup ({settings.TIME_ZONE} days): {rows.figures:,} figure rows, {rows.minutes:,} "
                f"minute rows, {rows.constraint_days:,} constraint-day rows and {rows.group_days:,} group-day rows "
                f"in {time.monotonic() - started:.1f} s."
            ))
            return
        zone = dashboard_rollup.installed_time_zone()
        if zone != settings.TIME_ZONE:
            raise CommandError(
                f"The day rollup counts days in {zone or 'no time zone (not installed)'}, the site in {settings.TIME_ZONE}; "
                "run `manage.py dashboard_rollup --rebuild`."
            )
        count, examples = dashboard_rollup.differences()
        if count:
            for line in examples:
                self.stderr.write(line)
            raise CommandError(
                f"{count:,} day-rollup rows differ from the requests, assessments, acknowledgements and constraint hits; "
                "run `manage.py dashboard_rollup --rebuild`."
            )
        self.stdout.write(self.style.SUCCESS(
            "The day rollup matches the requests, assessments, acknowledgements and constraint hits "
            f"({time.monotonic() - started:.1f} s)."
        ))
