"""Percentiles from a two-level histogram: counts per whole business hour, and per whole business
minute inside the hours a percentile falls in.

The result is `percentile_cont` (dialect.percentile_cont: linear interpolation between the two
nearest ranks) of the values rounded down to the minute: within a minute of the exact figure, and
exact for values that are whole minutes. The page shows tenths of an hour (six minutes).

Reading it takes two steps: the hour counts (a few hundred rows) say which hour holds the ranks
the percentile needs; only that hour's minute counts (and the next one's, when the two ranks
straddle an hour) are read then.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class Histogram:
    hours: dict[int, int]
    minutes: dict[int, int] = field(default_factory=dict)  # only for the hours asked for

    @property
    def total(self) -> int:
        return sum(n for n in self.hours.values() if n > 0)

    def ranks(self, fraction: float) -> tuple[int, int, float]:
        """The two ranks (0-based) percentile_cont interpolates between, and the weight of the second."""
        position = fraction * (self.total - 1)
        low = math.floor(position)
        return low, min(low + 1, self.total - 1), position - low

    def hour_of(self, rank: int) -> tuple[int, int]:
        """The hour holding the value of this rank, and how many values lie in earlier hours."""
        before = 0
        for hour in sorted(h for h, n in self.hours.items() if n > 0):
            if rank < before + self.hours[hour]:
                return hour, before
            before += self.hours[hour]
        raise ValueError(f"rank {rank} is beyond the {self.total} values")

    def hours_needed(self, fractions: tuple[float, ...]) -> set[int]:
        """The hours whose minutes these percentiles need."""
        if not self.total:
            return set()
        needed = set()
        for fraction in fractions:
            low, high, _ = self.ranks(fraction)
            needed |= {self.hour_of(low)[0], self.hour_of(high)[0]}
        return needed

    def minute_of(self, rank: int) -> int:
        hour, before = self.hour_of(rank)
        in_hour = sorted(m for m, n in self.minutes.items() if hour * 60 <= m < hour * 60 + 60 and n > 0)
        for minute in in_hour:
            if rank < before + self.minutes[minute]:
                return minute
            before += self.minutes[minute]
        raise ValueError(f"the minutes of hour {hour} were not read or do not add up")

    def percentile_seconds(self, fraction: float) -> float | None:
        if not self.total:
            return None
        low, high, weight = self.ranks(fraction)
        a, b = self.minute_of(low) * 60, self.minute_of(high) * 60
        return a + (b - a) * weight
