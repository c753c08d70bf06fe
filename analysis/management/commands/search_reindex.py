"""Rebuild the search documents of every request (after an import, a bulk load or admin edits).

    python manage.py search_reindex
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from analysis import search


class Command(BaseCommand):
    help = "Rebuild the full-text search documents of every request (PostgreSQL; nothing to do on SQLite)."

    def handle(self, *args: Any, **options: Any) -> None:
        done = search.reindex_all()
        self.stdout.write(f"{done} requests indexed.")
