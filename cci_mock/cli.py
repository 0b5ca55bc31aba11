"""The ``cci-mock`` command: serve, kubeconfig, validate.

Every option can also come from an environment variable ``CCI_MOCK_<NAME>`` (shown
in ``--help``), so a container is configured without a command line. Imports of the
server stack are deferred to the command that needs them: ``--help`` and
``validate`` stay quick, and ``serve`` answers ``/healthz`` well within a second.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from typing import Any

from cci_mock import __version__
from cci_mock.config import DEFAULT_TOKEN

PREFIX = "CCI_MOCK_"
LOOPS = ("asyncio", "uvloop")  # serve --loop
# How long a stopping server lets requests in flight finish (aiohttp waits this twice:
# for handlers, then for connections) before cancelling them: watches, delays and hung
# fault answers end, and `docker stop` (10 s) never has to kill the process.
SHUTDOWN_GRACE = 0.5

SERVE_EXAMPLES = """\
examples:
  cci-mock serve                                   # http://127.0.0.1:8080, any token
  cci-mock serve --port 0 --tls-port 8443 --kubeconfig-out kube.json
  cci-mock serve --fixtures sample --snapshot state.json --snapshot-interval 30
  CCI_MOCK_HOST=0.0.0.0 CCI_MOCK_TOKENS=dev-token cci-mock serve   # in a container
"""

KUBECONFIG_EXAMPLES = """\
examples:
  cci-mock serve --tls-port 8443 --tls-dir tls &
  cci-mock kubeconfig --tls-dir tls -o kube.json       # https://127.0.0.1:8443, CA tls/ca.crt
  kubectl --kubeconfig kube.json get ns
  cci-mock kubeconfig --server https://127.0.0.1:9443 --ca-file tls/ca.crt
  docker compose exec cci-mock cci-mock kubeconfig > kube.json   # the compose example
"""

MAIN_EXAMPLES = """\
examples:
  cci-mock serve --tls-port 8443 --kubeconfig-out kube.json
  kubectl --kubeconfig kube.json get ns
  cci-mock kubeconfig --tls-dir tls -o kube.json   # a mock served with --tls-port 8443 --tls-dir tls
  cci-mock validate my-job.yaml sample

every option also reads CCI_MOCK_<OPTION> (e.g. CCI_MOCK_PORT=9000); see <command> --help
"""


def env_name(option: str) -> str:
    return PREFIX + option.lstrip("-").replace("-", "_").upper()


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.replace(os.pathsep, ",").split(",") if part.strip()]


def _add(parser: argparse.ArgumentParser, option: str, *aliases: str, default: Any = None,
         type: Any = str, many: bool = False, flag: bool = False, help: str = "",
         env: str | None = None, **kwargs: Any) -> None:
    """An option whose default comes from its environment variable ``CCI_MOCK_<OPTION>``."""
    env = PREFIX + env if env else env_name(option)
    raw = os.environ.get(env)
    dest = kwargs.pop("dest", None) or option.lstrip("-").replace("-", "_")
    if flag:
        value = raw.lower() in ("1", "true", "yes", "on") if raw is not None else bool(default)
        parser.add_argument(option, *aliases, action="store_true", default=value, dest=dest,
                            help=f"{help} (env {env}=1)", **kwargs)
        return
    if many:  # repeatable: the command line replaces the environment's list, see _merged
        parser.add_argument(option, *aliases, action="append", type=type, default=None, dest=dest,
                            help=f"{help}; repeatable (env {env}, comma-separated)", **kwargs)
        env_values = [type(v) for v in _split(raw)] if raw is not None else list(default or [])
        parser.set_defaults(**{f"{dest}_env": env_values})
        return
    if raw is not None:
        try:
            default = type(raw)
        except ValueError:
            raise SystemExit(f"cci-mock: {env}={raw!r} is not a valid value") from None
        if kwargs.get("choices") and default not in kwargs["choices"]:
            raise SystemExit(f"cci-mock: {env}={raw!r} is not one of {', '.join(kwargs['choices'])}")
    shown = f"; default {default}" if default not in (None, "") else ""
    parser.add_argument(option, *aliases, type=type, default=default, dest=dest,
                        help=f"{help} (env {env}{shown})", **kwargs)


def _merged(args: argparse.Namespace, dest: str) -> list:
    given = getattr(args, dest)
    return list(given) if given is not None else list(getattr(args, f"{dest}_env", []))


def build_parser() -> argparse.ArgumentParser:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="cci-mock", formatter_class=formatter, epilog=MAIN_EXAMPLES,
        description="A local emulator of Huawei Cloud CCI's Kubernetes-style API.")
    parser.add_argument("--version", action="version", version=f"cci-mock {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the mock server", formatter_class=formatter,
                                epilog=SERVE_EXAMPLES,
                                description="Serve the CCI API until SIGTERM or Ctrl-C.")
    _add(serve, "--host", default="127.0.0.1", help="address to listen on")
    _add(serve, "--port", default=8080, type=int, help="HTTP port (0 picks a free one)")
    _add(serve, "--tls-port", type=int,
         help="also serve HTTPS on this port (kubectl sends tokens only over TLS)")
    _add(serve, "--tls-cert", help="server certificate (PEM); default: a generated CA and cert")
    _add(serve, "--tls-key", help="private key of --tls-cert (PEM)")
    _add(serve, "--tls-dir", help="where generated ca.crt/server.crt/server.key are written "
                                  "(default: a temporary folder)")
    _add(serve, "--token", many=True, dest="tokens", env="TOKENS",
         help="accepted API token (default: any non-empty token)")
    _add(serve, "--admin-token", help="token the /_mock admin API requires (X-Admin-Token)")
    _add(serve, "--seed", default=0, type=int, help="seed for uids and generated names")
    _add(serve, "--fixtures", many=True, metavar="DIR",
         help="seed data (YAML/JSON files or folders) loaded at start; resets return to it")
    _add(serve, "--faults", metavar="FILE", help="fault rules to install at start")
    _add(serve, "--lifecycle", default="default",
         help="lifecycle profile: default, instant, frozen or a YAML file")
    _add(serve, "--clock-offset", default=0.0, type=float, metavar="SECONDS",
         help="start the mock's clock this far ahead of real time")
    _add(serve, "--clock-scale", default=1.0, type=float, metavar="FACTOR",
         help="run the mock's clock FACTOR times faster (60: a job's minute passes in a second)")
    _add(serve, "--identities", metavar="FILE",
         help="IAM identities (YAML/JSON: account, projects, users with passwords, AK/SK, "
              "permissions); without it any token is accepted")
    _add(serve, "--field-validation", default="Warn", choices=["Ignore", "Warn", "Strict"],
         help="how unknown fields are treated when a request does not say")
    _add(serve, "--snapshot", metavar="FILE",
         help="state file: loaded at start, written atomically on SIGTERM/SIGINT")
    _add(serve, "--state-dir", metavar="DIR",
         help="durable state: a write-ahead log in DIR; every write is on disk before it is "
              "answered, and a restart (even after kill -9) continues from it")
    _add(serve, "--snapshot-interval", default=0.0, type=float, metavar="SECONDS",
         help="also write the snapshot every SECONDS (0: only on shutdown)")
    _add(serve, "--journal-size", default=1000, type=int, help="requests the journal keeps")
    _add(serve, "--header-timeout", default=32.0, type=float, metavar="SECONDS",
         help="a request's headers must arrive within SECONDS (slowloris); 0: no limit")
    _add(serve, "--kubeconfig-out", metavar="FILE",
         help="write a kubeconfig for this server once it listens")
    _add(serve, "--log-level", default="info", choices=["debug", "info", "warning", "error"],
         help="log level (info: one line per request)")
    _add(serve, "--log-format", default="text", choices=["text", "json"], help="log line format")
    _add(serve, "--loop", default="asyncio", choices=LOOPS,
         help="event loop: uvloop is faster where it is installed (pip install 'cci-mock[fast]')")

    kube = commands.add_parser(
        "kubeconfig", help="print a kubeconfig for a running mock's TLS listener",
        formatter_class=formatter, epilog=KUBECONFIG_EXAMPLES,
        description="kubectl sends its token only over TLS, so the kubeconfig points at the "
                    "mock's HTTPS listener (serve --tls-port) and trusts its CA.")
    tls_port = os.environ.get(PREFIX + "TLS_PORT") or "8443"
    _add(kube, "--server", default=f"https://127.0.0.1:{tls_port}",
         help="the mock's URL (default port: CCI_MOCK_TLS_PORT, else 8443)")
    _add(kube, "--token", help=f"bearer token (default: the first of CCI_MOCK_TOKENS, else {DEFAULT_TOKEN})")
    _add(kube, "--tls-dir", help="the --tls-dir the mock was served with: its ca.crt is trusted")
    _add(kube, "--ca-file", help="CA to trust for an https server (default: ca.crt of --tls-dir)")
    _add(kube, "--insecure-skip-tls-verify", flag=True, help="trust any certificate")
    _add(kube, "--namespace", help="namespace of the context")
    _add(kube, "--output", "-o", help="write to this file instead of stdout")

    token = commands.add_parser(
        "token", help="print an IAM token for a declared user of a running mock",
        formatter_class=formatter,
        epilog="example:\n  export TOKEN=$(cci-mock token --user reader)\n"
               "  curl -H \"X-Auth-Token: $TOKEN\" http://127.0.0.1:8080/api/v1/namespaces")
    _add(token, "--server", default="http://127.0.0.1:8080", help="the mock's URL")
    _add(token, "--user", env="TOKEN_USER", help="a user of the identities file (required)")
    _add(token, "--admin-token", help="the mock's --admin-token, if it has one")

    validate = commands.add_parser(
        "validate", help="check manifests offline against the schemas and rules",
        formatter_class=formatter,
        epilog="example:\n  cci-mock validate job.yaml sample   # exit 1 and the causes if any fail")
    validate.add_argument("paths", nargs="+", metavar="FILE", help="YAML/JSON files or folders")
    return parser


# -- serve ----------------------------------------------------------------------
def serve_config(args: argparse.Namespace):
    from cci_mock.config import Config

    return Config(tokens=tuple(_merged(args, "tokens")), admin_token=args.admin_token,
                  seed=args.seed, faults_file=args.faults, journal_size=args.journal_size,
                  lifecycle=args.lifecycle, fixtures=tuple(_merged(args, "fixtures")),
                  snapshot=args.snapshot, snapshot_interval=args.snapshot_interval,
                  field_validation=args.field_validation, clock_offset=args.clock_offset,
                  identities=args.identities, state_dir=args.state_dir,
                  clock_scale=args.clock_scale, header_timeout=args.header_timeout)


def _certificates(args: argparse.Namespace):
    from cci_mock import tls

    if args.tls_cert or args.tls_key:
        if not (args.tls_cert and args.tls_key):
            raise ValueError("--tls-cert and --tls-key go together")
        return tls.from_files(args.tls_cert, args.tls_key)
    if args.tls_dir:
        return tls.generate(args.tls_dir)
    import tempfile  # no --tls-dir: a folder of our own, removed once the files are loaded

    return tls.generate(tempfile.mkdtemp(prefix="cci-mock-tls-"), temporary=True)


async def _serve(args: argparse.Namespace) -> int:
    import logging

    from cci_mock import kubeconfig, serving
    from cci_mock.app import create_app

    log = logging.getLogger("cci_mock")
    config = serve_config(args)
    app = create_app(config)
    certificates = _certificates(args) if args.tls_port is not None else None
    try:
        listening = await serving.start(app, args.host, args.port, tls_port=args.tls_port,
                                        certificates=certificates,
                                        shutdown_timeout=SHUTDOWN_GRACE)
    finally:  # the server holds the certificate in memory now: a generated folder goes
        if certificates is not None:
            certificates.remove_temporary()
    urls = " and ".join(u for u in (listening.url, listening.tls_url) if u)
    loop = "uvloop" if "uvloop" in type(asyncio.get_running_loop()).__module__ else "asyncio"
    log.info("cci-mock %s serving on %s (%s loop)", __version__, urls, loop)
    if args.kubeconfig_out:
        document = kubeconfig.build(listening.tls_url or listening.url, config.client_token,
                                    ca_pem=certificates.ca_pem if certificates else None)
        kubeconfig.write(args.kubeconfig_out, document)
        log.info("kubeconfig written to %s", args.kubeconfig_out)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    flusher = asyncio.create_task(_flush_logs())
    try:
        await stop.wait()
    finally:
        flusher.cancel()
        log.info("shutting down")
        from cci_mock.web.keys import BACKEND

        # state first: a second signal or a kill -9 finds it on disk
        if config.snapshot and app[BACKEND].snapshot_ready:
            from cci_mock.harness import state

            state.save(app[BACKEND].registry, config.snapshot)
        await listening.close()
    return 0


def event_loop_runner(name: str) -> asyncio.Runner:
    """A runner on the chosen event loop; ValueError when uvloop is asked for and absent."""
    if name == "uvloop":
        try:
            import uvloop
        except ImportError:
            raise ValueError("--loop uvloop needs the uvloop package: "
                             "pip install 'cci-mock[fast]'") from None
        return asyncio.Runner(loop_factory=uvloop.new_event_loop)
    return asyncio.Runner()


async def _flush_logs() -> None:
    """Access lines are buffered (logs.AccessBufferingHandler): written every 0.2 s."""
    from cci_mock import logs

    while True:
        await asyncio.sleep(logs.FLUSH_SECONDS)
        logs.flush()


def serve(args: argparse.Namespace) -> int:
    from cci_mock import logs

    logs.configure(args.log_level, args.log_format)
    try:
        with event_loop_runner(args.loop) as runner:
            return runner.run(_serve(args))
    except (ValueError, OSError) as error:  # bad fixtures/snapshot/profile, port in use
        logs.flush()
        print(f"cci-mock: {error}", file=sys.stderr)
        return 1
    finally:
        logs.flush()


# -- kubeconfig -----------------------------------------------------------------
def kubeconfig_command(args: argparse.Namespace) -> int:
    from pathlib import Path

    from cci_mock import kubeconfig

    token = args.token or (_split(os.environ.get(PREFIX + "TOKENS", "")) or [DEFAULT_TOKEN])[0]
    ca_file = args.ca_file or (str(Path(args.tls_dir) / "ca.crt") if args.tls_dir else None)
    secure = args.server.startswith("https:")
    if not secure:
        print("cci-mock: kubectl sends no token over plain HTTP, so it gets 401 from this "
              "server; for kubectl serve with --tls-port and point --server at it",
              file=sys.stderr)
    elif not ca_file and not args.insecure_skip_tls_verify:
        print("cci-mock: an https server needs its CA: --tls-dir DIR (the one serve --tls-dir "
              "wrote ca.crt to), --ca-file FILE or --insecure-skip-tls-verify", file=sys.stderr)
        return 2
    try:
        ca_pem = Path(ca_file).read_bytes() if ca_file and secure else None
    except OSError as error:
        print(f"cci-mock: cannot read the CA: {error}", file=sys.stderr)
        return 2
    document = kubeconfig.build(args.server, token, ca_pem=ca_pem, namespace=args.namespace,
                                insecure=args.insecure_skip_tls_verify)
    if args.output:
        kubeconfig.write(args.output, document)
    else:
        sys.stdout.write(kubeconfig.dumps(document))
    return 0


# -- token ----------------------------------------------------------------------
def token_command(args: argparse.Namespace) -> int:
    """Asks the running mock's admin API (no password: it is the test harness)."""
    if not args.user:
        print("cci-mock token: --user is required", file=sys.stderr)
        return 2
    import json
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        args.server.rstrip("/") + "/_mock/identities/tokens", method="POST",
        data=json.dumps({"user": args.user}).encode(),
        headers={"Content-Type": "application/json",
                 **({"X-Admin-Token": args.admin_token} if args.admin_token else {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our URL
            print(json.loads(response.read())["token"])
    except urllib.error.HTTPError as error:
        print(f"cci-mock: {error.code}: {error.read().decode(errors='replace')}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"cci-mock: cannot reach {args.server}: {error}", file=sys.stderr)
        return 1
    return 0


# -- validate -------------------------------------------------------------------
def validate_command(args: argparse.Namespace) -> int:
    from cci_mock.core.registry import Registry
    from cci_mock.harness import seed
    from cci_mock.kinds import default_catalog

    try:
        documents = seed.read_documents(args.paths)
    except seed.SeedError as error:
        print(f"invalid: {error}")
        return 1
    problems = seed.check(Registry(default_catalog()), documents)
    for problem in problems:
        print(f"invalid: {problem}")
    valid = len(documents) - len(problems)
    print(f"{valid} of {len(documents)} documents valid")
    return 1 if problems or not documents else 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    commands = {"serve": serve, "kubeconfig": kubeconfig_command, "validate": validate_command,
                "token": token_command}
    return commands[args.command](args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
