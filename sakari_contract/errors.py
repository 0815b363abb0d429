"""One base exception; the exit code lives on the class.

ContractError            any failure the command line reports in one line
├── UsageError       (2) bad arguments, credentials, schema or input files
└── InfraFailure     (3) the target could not be reached at all
"""

from __future__ import annotations


class ContractError(Exception):
    exit_code = 2


class UsageError(ContractError):
    exit_code = 2


class InfraFailure(ContractError):
    exit_code = 3
