"""`python -m local run` serves Greenlight locally; `python -m local demo` drives a scenario."""

import argparse
import signal
import sys
import threading


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="serve the whole system on one port until Ctrl-C")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=3000)
    run.add_argument(
        "--clock-scale",
        type=float,
        default=1.0,
        help="business seconds per real second (60: an hour passes in a minute)",
    )
    demo = commands.add_parser("demo", help="drive a scripted scenario through the HTTP contract")
    demo.add_argument("--url", help="a running local runtime (default: start one on a free port)")
    args = parser.parse_args(argv)

    if args.command == "demo":
        from local.demo import run_demo

        return run_demo(args.url)

    from local.runtime import LocalRuntime

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with LocalRuntime(port=args.port, host=args.host, clock_scale=args.clock_scale) as runtime:
        base = runtime.base_url
        print(
            f"""Greenlight is running locally (no AWS account needed).

  Ask for a post      {base}/requests/new
  JSON API            {base}/api/requests
  Outbox (all mail)   {base}/_local/outbox      ({base}/_local/outbox.json)
  Business clock      {base}/_local/clock       (POST /_local/clock/advance {{"seconds": N}})

Press Ctrl-C to stop.""",
            flush=True,
        )
        stop.wait()
        print("\nStopping: ending running executions…", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
