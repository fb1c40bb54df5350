"""Cross-fading between settings: a preset change glides instead of cutting.

Every live number moves in a straight line from where the show is to where
the preset wants it (so z's truncation, the motion amounts and speeds, the
picture adjustments glide); integers are rounded on the way; everything else
(choices, switches, lists) takes the preset's value at the start.
"""

from __future__ import annotations

import dataclasses

from ganterp.live.settings.schema import SECTIONS, Config, section_fields


def blend_configs(a: Config, b: Config, alpha: float) -> Config:
    """The settings ``alpha`` of the way from ``a`` to ``b``.

    Parameters
    ----------
    a, b : Config
        Start and end.
    alpha : float
        0 gives ``a``'s numbers, 1 gives ``b`` (clipped to [0, 1]).

    Returns
    -------
    Config
        Live numbers interpolated; every other setting is ``b``'s.
    """
    alpha = min(1.0, max(0.0, float(alpha)))
    sections = {}
    for name, cls in SECTIONS.items():
        sa, sb = getattr(a, name), getattr(b, name)
        changes = {}
        for key, (f, hint) in section_fields(cls).items():
            if not f.metadata.get("live", True) or hint not in (int, float):
                continue
            va, vb = getattr(sa, key), getattr(sb, key)
            value = va + alpha * (vb - va)
            changes[key] = round(value) if hint is int else float(value)
        sections[name] = dataclasses.replace(sb, **changes)
    return dataclasses.replace(b, **sections)


class SettingsFade:
    """A glide from one configuration to another over ``duration_s`` seconds."""

    def __init__(self, start: Config, end: Config, *, at: float, duration_s: float) -> None:
        self.start = start
        self.end = end
        self.at = float(at)
        self.duration_s = max(0.0, float(duration_s))

    def alpha(self, now: float) -> float:
        """How far the glide is at clock time ``now``, 0 to 1."""
        if self.duration_s <= 0:
            return 1.0
        return min(1.0, max(0.0, (now - self.at) / self.duration_s))

    def config(self, now: float) -> Config:
        """The settings at clock time ``now``."""
        return blend_configs(self.start, self.end, self.alpha(now))
