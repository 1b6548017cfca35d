"""`python -m local run` serves Greenlight locally; `python -m local demo` drives a scenario."""

import argparse
import os
import signal
import sys


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

    stopping = _stop_on_signals()
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
        os.read(stopping, 1)
        print("\nStopping: ending running executions…", flush=True)
    return 0


def _stop_on_signals() -> int:
    """SIGTERM and SIGINT wake the main thread through a pipe: the interpreter's C-level handler
    writes each signal's number to it (`signal.set_wakeup_fd`) from whichever thread the kernel
    interrupted, and the main thread waits by reading it. No Python handler takes a lock: one that
    called `Event.set()` hung `make run` for good when a second signal (make forwards a
    process-group SIGTERM to its child) arrived while the first held the Event's lock. Nor can a
    signal be missed while the main thread sleeps in a system call another thread was interrupted
    for. Returns the pipe's read end."""
    read, write = os.pipe()
    os.set_blocking(write, False)  # a full pipe drops a byte rather than block the handler
    signal.set_wakeup_fd(write, warn_on_full_buffer=False)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: None)  # stop the default action; the pipe does the rest
    return read


if __name__ == "__main__":
    sys.exit(main())
