"""Env ids of installed instances: packages name themselves under the ``sequence_env.envs`` entry point group.

Gymnasium 1.x has no plugin entry points, so an id such as ``MelodyCompose-v0`` is known only once its
package is imported. A package lists itself in its ``pyproject.toml``::

    [project.entry-points."sequence_env.envs"]
    melody = "melody_env"

and :func:`load_env_plugins` imports the listed packages when an id is not registered yet, so code that
knows no instance (the tuners) can still be handed ``"MelodyCompose-v0"``.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from gymnasium.envs.registration import registry

GROUP = "sequence_env.envs"


def load_env_plugins(env_id: str | None = None) -> None:
    """Import every package of the ``sequence_env.envs`` group, unless ``env_id`` is registered already.

    Ids of the form ``"module:Id"`` are left to Gymnasium, which imports the module itself.
    """
    if env_id is not None and (env_id in registry or ":" in env_id):
        return
    for entry in entry_points(group=GROUP):
        importlib.import_module(entry.value)


__all__ = ["GROUP", "load_env_plugins"]
