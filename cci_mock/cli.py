"""The ``cci-mock`` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys

from cci_mock import __version__


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"CCI_MOCK_{name}", default)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cci-mock",
        description="A local emulator of Huawei Cloud CCI's Kubernetes-style API.",
        epilog="example: cci-mock serve --port 8080",
    )
    parser.add_argument("--version", action="version", version=f"cci-mock {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the mock server")
    serve.add_argument("--host", default=_env("HOST", "127.0.0.1"),
                       help="address to listen on (env CCI_MOCK_HOST; default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=int(_env("PORT", "8080")),
                       help="port (env CCI_MOCK_PORT; 0 picks a free one; default 8080)")
    serve.add_argument("--token", action="append", dest="tokens",
                       default=[t for t in (_env("TOKENS") or "").split(",") if t],
                       help="accepted API token, repeatable (env CCI_MOCK_TOKENS, comma-separated);"
                            " default: any non-empty token")
    serve.add_argument("--seed", type=int, default=int(_env("SEED", "0")),
                       help="seed for uids and generated names (env CCI_MOCK_SEED)")
    serve.add_argument("--log-level", default=_env("LOG_LEVEL", "info"),
                       choices=["debug", "info", "warning", "error"])
    return parser


async def _serve(args: argparse.Namespace) -> None:
    from aiohttp import web

    from cci_mock.app import create_app
    from cci_mock.config import Config

    config = Config(tokens=tuple(args.tokens), seed=args.seed)
    runner = web.AppRunner(create_app(config))
    await runner.setup()
    site = web.TCPSite(runner, args.host, args.port)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    print(f"cci-mock serving on http://{args.host}:{port}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(message)s")
    if args.command == "serve":
        try:
            asyncio.run(_serve(args))
        except KeyboardInterrupt:
            pass
        return 0
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
