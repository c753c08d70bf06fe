"""Costs with their unit and basis:
`{% load money %}{% cost a.cost_impact a.cost_currency a.cost_basis req.unit req.quantity %}`."""

from __future__ import annotations

from decimal import Decimal

from django import template

from analysis import money
from analysis.models import CostBasis

register = template.Library()


@register.simple_tag
def cost(amount: Decimal | None, currency: str, basis: str, unit: str = "", quantity: Decimal | None = None,
         signed: bool = False) -> str:
    """`2.10 EUR per unit`, `1,800.00 EUR for all 500 pcs`, or an em dash."""
    return money.cost_text(amount, currency, basis, unit=unit, quantity=quantity, signed=signed)


@register.simple_tag
def unit_price(amount: Decimal | None, currency: str, unit: str = "") -> str:
    """`12.50 EUR per unit`, `3.20 EUR per kg`."""
    return money.cost_text(amount, currency, CostBasis.PER_UNIT, unit=unit)
