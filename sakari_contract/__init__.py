"""Contract tests and drift detection for Sakari's Get call endpoint."""

from .errors import ContractError, InfraFailure, UsageError
from .findings import ErrorKind, Finding, InfraError, Kind, Severity, Source, Verdict
from .result import RunResult

__all__ = [
    "ContractError",
    "ErrorKind",
    "Finding",
    "InfraError",
    "InfraFailure",
    "Kind",
    "RunResult",
    "Severity",
    "Source",
    "UsageError",
    "Verdict",
]
