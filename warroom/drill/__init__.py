"""The drill world: a simulated cluster behind a loopback Kubernetes API, Prometheus and
Alertmanager, scripted by a scenario that reacts to what the responder does.

    from warroom.drill import DrillWorld, run_in_thread, list_scenarios, load_scenario

Exports are lazy so that reading scenarios does not import aiohttp.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "DrillHandle",
    "DrillWorld",
    "Scenario",
    "ScenarioError",
    "list_scenarios",
    "load_scenario",
    "run_in_thread",
]

_WHERE = {
    "DrillHandle": "warroom.drill.world",
    "DrillWorld": "warroom.drill.world",
    "run_in_thread": "warroom.drill.world",
    "Scenario": "warroom.drill.scenario",
    "ScenarioError": "warroom.drill.scenario",
    "list_scenarios": "warroom.drill.scenario",
    "load_scenario": "warroom.drill.scenario",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'warroom.drill' has no attribute {name!r}")
