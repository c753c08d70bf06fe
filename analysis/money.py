"""Costs as people read them: an amount, its currency and what it covers (one unit or the whole
quantity), never a bare number; and the one rule for adding costs up."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import NamedTuple

from analysis.models import CostBasis

# Units that name no measure: a cost for one of them reads "per unit", not "per pcs".
_COUNT_UNITS = {"", "pc", "pcs", "piece", "pieces", "unit", "units", "ea", "each", "item", "items"}


class Cost(NamedTuple):
    amount: Decimal
    currency: str
    basis: str  # a CostBasis value


def amount_text(amount: Decimal, currency: str, *, signed: bool = False) -> str:
    """`1,800.00 EUR`; with `signed`, `+1,800.00 EUR` (a delta)."""
    return f"{amount:{'+' if signed else ''},.2f} {currency}"


def basis_text(basis: str, *, unit: str = "", quantity: Decimal | None = None) -> str:
    """`per unit` / `per kg`; `for all 500 pcs` (or `for the whole quantity` without one);
    `(per unit or total not stated)` for a cost recorded before the basis existed."""
    if basis == CostBasis.PER_UNIT:
        return "per unit" if unit.strip().lower() in _COUNT_UNITS else f"per {unit}"
    if basis == CostBasis.TOTAL:
        if quantity is None:
            return "for the whole quantity"
        return f"for all {quantity.normalize():f} {unit}".rstrip()
    return "(per unit or total not stated)"


def cost_text(amount: Decimal | None, currency: str, basis: str, *, unit: str = "",
              quantity: Decimal | None = None, signed: bool = False) -> str:
    """`2.10 EUR per unit`, `1,800.00 EUR for all 500 pcs`; an em dash when there is no cost."""
    if amount is None:
        return "—"
    return f"{amount_text(amount, currency, signed=signed)} {basis_text(basis, unit=unit, quantity=quantity)}"


def combined(costs: Iterable[Cost]) -> Cost | None:
    """The sum of costs of one kind (same basis, same currency); None when there is none to add or
    when they differ in kind: 2.10 EUR per unit and 1,800 EUR for the whole quantity are not
    1,802.10 of anything, and a person must decide how they combine."""
    costs = list(costs)
    kinds = {(c.currency, c.basis) for c in costs}
    if len(kinds) != 1 or "" in {basis for _, basis in kinds}:
        return None
    currency, basis = kinds.pop()
    return Cost(sum((c.amount for c in costs), Decimal(0)), currency, basis)
