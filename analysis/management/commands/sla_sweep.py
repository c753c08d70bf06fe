"""`manage.py sla_sweep`: the beat task's logic for operators, with or without a broker."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from analysis import sla
from requests_app import notifications


class Command(BaseCommand):
    help = "Decide due SLA reminders and escalations, and re-enqueue (or deliver) what is unsent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--deliver", action="store_true", help="Deliver in this process instead of enqueuing to Celery.")
        parser.add_argument("--digests", action="store_true", help="Also decide today's morning digests.")
        parser.add_argument("--batch-size", type=int, default=sla.BATCH_SIZE)

    def handle(self, *args: Any, deliver: bool, digests: bool, batch_size: int, **options: Any) -> None:
        how = sla.deliver_inline if deliver else sla.enqueue_deliveries
        result = sla.sla_sweep(batch_size=batch_size, deliver=how)
        digest_count = sla.send_morning_digests(deliver=how) if digests else 0
        # The sweep's e-mail resends go out through a background thread, which dies with this process.
        notifications.flush_published()
        self.stdout.write(
            f"requests={result.requests} assessments={result.assessments} decided={result.decided} "
            f"reenqueued={result.reenqueued} emails_resent={result.emails_resent} digests={digest_count}"
        )
