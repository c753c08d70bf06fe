"""Celery adapters (STYLE.md habit 10): ids in, one service call. The database decides what is
due and whether something was already sent, so a duplicate message or a second worker is harmless."""

from __future__ import annotations

from celery import shared_task

from analysis import sla


@shared_task(name="analysis.tasks.sla_sweep")
def sla_sweep() -> dict:
    return sla.sla_sweep().as_dict()


@shared_task(name="analysis.tasks.deliver_reminder")
def deliver_reminder(ledger_id: int) -> bool:
    return sla.deliver_ledger(ledger_id)


@shared_task(name="analysis.tasks.send_morning_digests")
def send_morning_digests() -> int:
    return sla.send_morning_digests()
