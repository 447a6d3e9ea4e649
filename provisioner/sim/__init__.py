"""Landscape simulator: one local HTTP server speaking the CF v3 API, UAA, XSUAA and the BTP account APIs.

See docs/simulator.md ("Layout" for the packages). `Simulator` is imported lazily so that `import provisioner.sim`
stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from provisioner.sim.simulator import Simulator

__all__ = ["Simulator"]


def __getattr__(name: str) -> Any:
    if name == "Simulator":
        from provisioner.sim.simulator import Simulator

        return Simulator
    raise AttributeError(f"module 'provisioner.sim' has no attribute {name!r}")
