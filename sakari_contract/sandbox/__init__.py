"""An embedded imitation of Sakari's call API, with drift and fault profiles."""

from .app import build_app
from .data import DOC_EXAMPLE, calls
from .profiles import DRIFT_PROFILES, FAULT_PROFILES
from .server import SandboxServer

__all__ = [
    "DOC_EXAMPLE",
    "DRIFT_PROFILES",
    "FAULT_PROFILES",
    "SandboxServer",
    "build_app",
    "calls",
]
