"""The operator's policy: what a manifest may cost to render on this platform's oracle.

The manifest schema bounds what is renderable at all; the policy bounds what this operator will
pay for (the oracle renders every approved project's mints and pays every fulfillment's gas). It
is checked when a manifest is pinned through the API and again by the oracle before rendering,
so a manifest pinned elsewhere gets no further. The defaults admit the shipped model's projects
and Stable Diffusion at 512x512 and 50 steps with up to four style adapters; the environment overrides them
(STYLEMINT_MAX_PIXEL_STEPS, STYLEMINT_SCHEDULERS, STYLEMINT_MAX_ADAPTERS).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from backend.render.manifest import SCHEDULERS, StyleManifest


@dataclass(frozen=True)
class OperatorPolicy:
    max_pixel_steps: int = 512 * 512 * 50  # width x height x steps: render time is about linear in it
    schedulers: frozenset[str] = frozenset(SCHEDULERS)
    max_adapters: int = 4

    @classmethod
    def from_env(cls) -> "OperatorPolicy":
        default = cls()
        schedulers = os.environ.get("STYLEMINT_SCHEDULERS")
        return cls(
            max_pixel_steps=int(os.environ.get("STYLEMINT_MAX_PIXEL_STEPS", default.max_pixel_steps)),
            schedulers=frozenset(schedulers.split(",")) if schedulers else default.schedulers,
            max_adapters=int(os.environ.get("STYLEMINT_MAX_ADAPTERS", default.max_adapters)),
        )

    def problems(self, manifest: StyleManifest) -> list[str]:
        """Every rule the manifest breaks, in words (empty: allowed)."""
        found = []
        cost = manifest.width * manifest.height * manifest.steps
        if cost > self.max_pixel_steps:
            found.append(f"{manifest.width}x{manifest.height} at {manifest.steps} steps is {cost:,} pixel-steps; "
                         f"this operator renders at most {self.max_pixel_steps:,}")
        if manifest.scheduler.name not in self.schedulers:
            found.append(f"scheduler {manifest.scheduler.name} is not offered here; one of {sorted(self.schedulers)}")
        adapters = 1 if manifest.style_weights else len(manifest.styles)
        if adapters > self.max_adapters:
            found.append(f"{adapters} style adapters; this operator loads at most {self.max_adapters}")
        return found


DEFAULT_POLICY = OperatorPolicy()
