"""What core services need from the process: its configuration and server secrets.

Doors pass their ``Runtime`` (app/runtime.py), which has these and the process's senders
too; services ask for no more than this, so no capability depends on the runtime (and
through it on every other capability).
"""

from __future__ import annotations

from typing import Protocol

from app.keys import Keys
from app.settings import Settings


class Environment(Protocol):
    @property
    def settings(self) -> Settings: ...

    @property
    def keys(self) -> Keys: ...
