"""``sakari-contract``: the only module that writes to the terminal."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import math
import os
import re
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from hypothesis.configuration import set_hypothesis_home_dir

from .errors import ContractError, UsageError
from .gate import DEFAULT_WAIVERS, apply_waivers, load_waivers, today_utc, waiver_lines
from .history import DEFAULT_HISTORY, History
from .http import is_bearer_token
from .live import BEARER_RULE, CheckOptions, LiveRun, Target
from .permitted import Profile
from .redact import for_reports, install_log_filter, mask_text
from .reports import render_terminal
from .reports.writer import write_reports
from .result import RunResult
from .sandbox.profiles import DRIFT_PROFILES, FAULT_PROFILES
from .schema import load_contract

logger = logging.getLogger("sakari_contract")

DEFAULT_REPORT_DIR = Path("reports/latest")
RATE = re.compile(r"(?P<count>\d+(?:\.\d+)?)\s*(?:/\s*s)?")
CALL_ID = re.compile(r"[^\s/?#]{1,256}")
# The embedded sandbox is on loopback and allows 50 requests a second.
SANDBOX_RATE = 40.0
REMOTE_RATE = 5.0
# Bounds that keep a run finite: a request never waits longer than MAX_TIMEOUT,
# and MIN_RATE still sends a request every ten seconds.
MAX_TIMEOUT = 300.0
MIN_RATE, MAX_RATE = 0.1, 1000.0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    install_log_filter()
    keep_hypothesis_cache_out_of_cwd()
    try:
        return args.run(args)
    except ContractError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        if exc.exit_code == 2:
            print("Run 'sakari-contract --help' for usage.", file=sys.stderr)
        return exc.exit_code


def keep_hypothesis_cache_out_of_cwd() -> None:
    """The unknown-id probes are drawn with Hypothesis, which caches Unicode
    tables under ./.hypothesis by default: a command should not litter the
    folder it runs in."""
    if os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        return
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    set_hypothesis_home_dir(cache / "sakari-contract" / "hypothesis")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sakari-contract",
        description="Contract checks for Sakari's Get call endpoint. Exit codes: "
        "0 conform, 1 drift, 2 usage or configuration error, 3 infra.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logs")
    # The same flag after the subcommand; SUPPRESS leaves the value set before
    # it alone when the flag is not repeated.
    verbose = argparse.ArgumentParser(add_help=False)
    verbose.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=argparse.SUPPRESS,
        help="debug logs",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, text: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=text, parents=[verbose])

    add_check(command("check", "live conformance against a target"))
    add_validate(command("validate", "check recorded responses offline"))
    add_sandbox(command("sandbox", "serve the embedded sandbox"))
    add_gate(command("gate", "check, then fail on breaking findings no waiver covers"))
    return parser


def add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--report-dir",
        type=Path,
        default=DEFAULT_REPORT_DIR,
        help="where drift.json, junit.xml and summary.md go (default %(default)s)",
    )
    parser.add_argument(
        "--schema", type=Path, default=None, help="OpenAPI document to check against"
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="undocumented fields are breaking, not warnings",
    )
    parser.add_argument(
        "--history",
        type=Path,
        default=DEFAULT_HISTORY,
        metavar="PATH",
        help="SQLite run history to record into (default %(default)s)",
    )
    parser.add_argument(
        "--no-redact",
        dest="redact",
        action="store_false",
        help="write personal data and secrets into the reports as they are "
        "(local debugging only; never in CI)",
    )


def add_check(parser: argparse.ArgumentParser) -> None:
    add_common(parser)
    parser.add_argument(
        "--base-url",
        default=os.environ.get("SAKARI_BASE_URL"),
        help="target host root, e.g. https://api.sakari.io (default: "
        "$SAKARI_BASE_URL, else the embedded sandbox)",
    )
    parser.add_argument(
        "--call-id",
        action="append",
        default=[],
        dest="call_ids",
        help="check this call id (repeatable); default: discover through list calls",
    )
    parser.add_argument(
        "--sandbox-drift",
        choices=sorted(DRIFT_PROFILES),
        metavar="PROFILE",
        help="serve this drift from the embedded sandbox: "
        + ", ".join(sorted(DRIFT_PROFILES)),
    )
    parser.add_argument(
        "--sandbox-fault",
        choices=sorted(FAULT_PROFILES),
        metavar="PROFILE",
        help="inject this fault in the embedded sandbox: "
        + ", ".join(sorted(FAULT_PROFILES)),
    )
    parser.add_argument(
        "--rate-limit",
        default=None,
        help="requests per second, e.g. 5/s (default 5/s, 40/s on the sandbox)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        help="seconds per request (default %(default)s)",
    )
    parser.add_argument(
        "--max-calls",
        type=int,
        default=500,
        help="discover at most this many (default %(default)s)",
    )
    parser.set_defaults(run=run_check)


def add_validate(parser: argparse.ArgumentParser) -> None:
    add_common(parser)
    parser.add_argument(
        "paths",
        nargs="+",
        type=Path,
        metavar="PATH",
        help="a .json body, .jsonl/.ndjson, a .har file or a VCR cassette",
    )
    parser.set_defaults(run=run_validate)


def add_sandbox(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--drift", choices=sorted(DRIFT_PROFILES), metavar="PROFILE")
    parser.add_argument("--fault", choices=sorted(FAULT_PROFILES), metavar="PROFILE")
    parser.set_defaults(run=run_sandbox)


def run_check(args: argparse.Namespace) -> int:
    warn_if_unredacted(args.redact)
    profile = Profile()
    result = check_result(args, profile)
    return finish(result, args, profile)


def check_result(args: argparse.Namespace, profile: Profile) -> RunResult:
    """Every argument, the credentials and both outputs are checked before the
    first request: a run is never lost to a report directory or a history that
    cannot be written."""
    base_url = checked_base_url(args.base_url) if args.base_url else None
    options = check_options(args)
    contract = load_contract(args.schema)
    target = live_target(args, base_url) if base_url else None
    check_outputs(args.report_dir, args.history)
    if target is None:
        return check_sandbox(args, contract, options, profile)
    run = LiveRun(target, contract, options, progress=say, observe=profile.observe)
    return run.run()


def live_target(args: argparse.Namespace, base_url: str) -> Target:
    if args.sandbox_drift or args.sandbox_fault:
        raise UsageError(
            "--sandbox-drift/--sandbox-fault use the embedded sandbox: drop "
            "--base-url and unset SAKARI_BASE_URL"
        )
    return target_from_env(base_url)


def add_gate(parser: argparse.ArgumentParser) -> None:
    add_check(parser)
    parser.add_argument(
        "--waivers",
        type=Path,
        default=None,
        metavar="FILE",
        help=f"reviewed waivers (default {DEFAULT_WAIVERS}; no file, no waivers)",
    )
    parser.set_defaults(run=run_gate)


def run_gate(args: argparse.Namespace) -> int:
    """Exit 1 on any breaking finding no live waiver covers."""
    required = args.waivers is not None
    waivers = load_waivers(args.waivers or DEFAULT_WAIVERS, required=required)
    if not required and not Path(DEFAULT_WAIVERS).exists():
        say(f"no {DEFAULT_WAIVERS} here: every breaking finding counts")
    warn_if_unredacted(args.redact)
    profile = Profile()
    result = check_result(args, profile)
    result.command = "gate"

    def waive(shown: RunResult) -> None:
        # Matched on the masked run: fingerprints and paths are the ones a
        # reviewer copies from drift.json into waivers.yaml.
        shown.waivers = apply_waivers(shown.findings, waivers, today_utc())
        for line in waiver_lines(shown.waivers):
            say(line)

    return finish(result, args, profile, waive=waive)


def run_validate(args: argparse.Namespace) -> int:
    from .validate import run_validate as validate

    contract = load_contract(args.schema)
    warn_if_unredacted(args.redact)
    check_outputs(args.report_dir, args.history)
    profile = Profile()
    result = validate(
        list(args.paths), strict=args.strict, contract=contract, observe=profile.observe
    )
    return finish(result, args, profile)


def check_outputs(report_dir: Path, history: Path) -> None:
    """Create the report directory and write a file into it, and open the
    history, so an unusable output stops a run before it starts."""
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=report_dir, prefix=".probe-") as probe:
            probe.write(b"{}")
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UsageError(
            f"cannot write reports to {str(report_dir)!r}: {reason}"
        ) from exc
    History(history).close()


def check_sandbox(args, contract, options: CheckOptions, profile: Profile) -> RunResult:
    from .sandbox.server import SandboxServer

    with SandboxServer(drift=args.sandbox_drift, fault=args.sandbox_fault) as server:
        say(f"embedded sandbox on {server.base_url}")
        target = Target(
            base_url=server.base_url,
            account_id=server.account_id,
            client_id=server.client_id,
            client_secret=server.client_secret,
        )
        run = LiveRun(target, contract, options, progress=say, observe=profile.observe)
        return run.run()


def check_options(args: argparse.Namespace) -> CheckOptions:
    for call_id in args.call_ids:
        if not CALL_ID.fullmatch(call_id):
            raise UsageError(
                f"--call-id={call_id!r} is not a call id (1 to 256 characters, "
                "no white space, '/', '?' or '#')"
            )
    default_rate = SANDBOX_RATE if on_loopback(args.base_url) else REMOTE_RATE
    if not (math.isfinite(args.timeout) and 0 < args.timeout <= MAX_TIMEOUT):
        raise UsageError(
            f"--timeout={args.timeout!r} must be above 0 and at most "
            f"{MAX_TIMEOUT:g} seconds"
        )
    if args.max_calls < 1:
        raise UsageError(f"--max-calls={args.max_calls!r} must be at least 1")
    return CheckOptions(
        call_ids=list(args.call_ids),
        max_calls=args.max_calls,
        strict=args.strict,
        rate_limit=parse_rate(args.rate_limit, default_rate),
        timeout=args.timeout,
    )


def on_loopback(base_url: str | None) -> bool:
    """The embedded sandbox, or a sandbox started by hand on this machine."""
    if not base_url:
        return True
    host = urlsplit(base_url).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")


def parse_rate(text: str | None, default: float) -> float:
    if text is None:
        return default
    match = RATE.fullmatch(text.strip())
    if not match or float(match["count"]) <= 0:
        raise UsageError(f"--rate-limit={text!r} is not a rate; expected e.g. 5/s")
    rate = float(match["count"])
    if not MIN_RATE <= rate <= MAX_RATE:
        raise UsageError(
            f"--rate-limit={text!r} is out of range: from {MIN_RATE:g}/s "
            f"to {MAX_RATE:g}/s"
        )
    return rate


def checked_base_url(base_url: str) -> str:
    """The target's root URL, without a trailing slash. A URL that may hold a
    password or a key (user info, a query, a fragment) is refused without being
    echoed, so it cannot reach the terminal or a CI log."""
    name = "--base-url (or SAKARI_BASE_URL)"
    try:
        parts = urlsplit(base_url)
    except ValueError as exc:
        raise UsageError(f"{name} is not a URL: {exc}") from exc
    if "@" in parts.netloc:
        raise UsageError(
            f"{name} holds a user name or password ('user:password@'): remove "
            "it; credentials come from SAKARI_CLIENT_ID and SAKARI_CLIENT_SECRET "
            "(or SAKARI_TOKEN)"
        )
    if "?" in base_url or "#" in base_url:
        raise UsageError(
            f"{name} has a query or a fragment ('?...' or '#...'): remove it and "
            "give the host root, e.g. https://api.sakari.io"
        )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--base-url={base_url!r} is not an http(s) URL with a host")
    try:
        unusable = parts.port == 0
    except ValueError:
        unusable = True
    if unusable:
        raise UsageError(f"--base-url={base_url!r} has no usable port (1 to 65535)")
    return base_url.rstrip("/")


def target_from_env(base_url: str) -> Target:
    env = os.environ
    account = env.get("SAKARI_ACCOUNT_ID")
    token = env.get("SAKARI_TOKEN")
    client_id, secret = env.get("SAKARI_CLIENT_ID"), env.get("SAKARI_CLIENT_SECRET")
    if not account:
        raise UsageError("SAKARI_ACCOUNT_ID is not set; a live run needs it")
    if not token and not (client_id and secret):
        raise UsageError(
            "set SAKARI_CLIENT_ID and SAKARI_CLIENT_SECRET (or SAKARI_TOKEN) "
            "for a live run"
        )
    if token and not is_bearer_token(token):
        # Never echoed: the value is a credential, however malformed.
        raise UsageError(f"SAKARI_TOKEN is not a bearer token: {BEARER_RULE}")
    return Target(base_url, account, client_id, secret, token)


def finish(
    result: RunResult,
    args: argparse.Namespace,
    profile: Profile,
    *,
    waive: Callable[[RunResult], None] | None = None,
) -> int:
    """Redaction happens here, once, before anything of the run is written
    anywhere: the waivers, the history, the reports and the terminal all get the
    masked run. A history that fails now still gets the reports written first."""
    shown = for_reports(result, redact=args.redact)
    if waive is not None:
        waive(shown)
    failure = record_history(shown, args.history, profile, redact=args.redact)
    written = write_reports(shown, args.report_dir)
    print(render_terminal(shown))
    print(f"reports: {', '.join(str(p) for p in written)}")
    if failure is not None:
        raise failure
    return shown.verdict.exit_code


def record_history(
    shown: RunResult, path: Path, profile: Profile, *, redact: bool
) -> UsageError | None:
    """Record the masked run; the error, if recording failed."""
    known = len(shown.findings)
    failure = None
    try:
        with History(path) as history:
            history.record(shown, profile)
    except UsageError as exc:
        failure = exc
    except (OSError, sqlite3.Error) as exc:
        failure = UsageError(f"cannot record the run in history {str(path)!r}: {exc}")
    # The history adds permitted changes, described with this run's values.
    added = dataclasses.replace(shown, findings=shown.findings[known:])
    shown.findings[known:] = for_reports(added, redact=redact).findings
    return failure


def run_sandbox(args: argparse.Namespace) -> int:
    from .sandbox.server import SandboxServer

    server = SandboxServer(
        host=args.host, port=args.port, drift=args.drift, fault=args.fault
    )
    print(f"serving the sandbox on {server.base_url} (Ctrl-C stops)")
    # Sandbox credentials are not secrets: a newcomer needs all three.
    print(
        f"SAKARI_ACCOUNT_ID={server.account_id} SAKARI_CLIENT_ID={server.client_id} "
        f"SAKARI_CLIENT_SECRET={server.client_secret}"
    )
    server.serve_forever()
    return 0


def warn_if_unredacted(redact: bool) -> bool:
    if not redact:
        say(
            "warning: --no-redact: reports may hold tokens, secrets and personal "
            "data; do not share or upload them"
        )
    return redact


def say(message: str) -> None:
    print(mask_text(message), file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
