"""The learning loop on pages that are not its own (the dashboard's Pareto)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import template

from analysis import improvements

if TYPE_CHECKING:
    from analysis.metrics import Dashboard

register = template.Library()


@register.simple_tag
def open_improvement_actions() -> list[tuple[str, list]]:
    """Open improvement actions per constraint (label, actions), for the dashboard's Pareto."""
    grouped = improvements.open_actions_by_constraint()
    return sorted(((actions[0].constraint.label, actions) for actions in grouped.values()), key=lambda item: item[0])


@register.simple_tag
def promise_figures(board: Dashboard) -> Any:
    """How often Operations kept its first promise over the dashboard's filter (`metrics.promises`)."""
    from analysis.metrics.promises import promises

    return promises(board.filter, now=board.now)
