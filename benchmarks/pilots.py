"""python -m benchmarks.pilots: the pilot path's cost, measured on the local runtime, written as
section 6 of benchmarks/RESULTS.md (replaced in place).

One pilot of 2 variants in 6 blocks on the sandbox, driven as tests/integration/test_pilots.py
drives it (the clock moved to each slot and past each 24 h figure, at most 4 hours at a time).
Counted from the end of the review until the pilot's execution has ended: the state transitions
of the pilot's execution and the lifecycle's two pilot states ("Start pilot", "Piloting"), the
Lambda invocations of the pilot path's functions ("Start pilot", "Next pilot slot", "Wait for
publish time", "Publish post", "Evaluate pilot") and the pilot's report mails. Not counted:
the measuring sweep (it runs every 5 minutes whatever the load; its cost per post is section 4,
and a pilot's slots are 12 posts), DynamoDB requests, and Lambda duration (estimated below at
100 ms of 512 MB per invocation)."""

import os
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from benchmarks.cost import Prices
from local.runtime import LocalRuntime
from tests.pilot_support import Watch
from tests.support import Http, hidden, link_in, mails_to, sample_request, wait_until

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
TITLE = "## 6. The pilot path"
PILOT_FUNCTIONS = (
    "StartPilotFunction",
    "NextPilotSlotFunction",
    "WaitForPublishTimeFunction",
    "PublishPostFunction",
    "EvaluatePilotFunction",
)
ASSUMED_SECONDS, MEMORY_GB = 0.1, 0.5
FORM = "application/x-www-form-urlencoded"


def _decide(http: Http, person: str, subject: str, request_id: str, fields: list[tuple[str, str]]) -> None:
    """Open the person's emailed link and post the decision with the page's hidden fields."""
    mail = wait_until(lambda: mails_to(http, person, subject, request_id), message=f"{subject} mail")
    link = link_in(mail[-1])
    page = http.get(link).text
    form = [("csrf", hidden(page, "csrf")), *fields]
    if 'name="version"' in page:
        form.append(("version", hidden(page, "version")))
    answer = http.request("POST", link, urlencode(form).encode(), {"content-type": FORM})
    if answer.status != 200:
        raise RuntimeError(f"{subject} decision failed: {answer.status}")


def run() -> dict[str, Any]:
    with LocalRuntime(port=0) as runtime:
        http = Http(runtime.base_url)
        created = http.post_json(
            "/api/requests", sample_request(title="Benchmark pilot", pilot_requested=True)
        )
        request_id = created.json()["id"]
        triage = [("decision", "accept"), ("comment", ""), ("channels", "sandbox"), ("pilot", "on")]
        triage += [("pilot_variant", "Plan less, do more."), ("pilot_hypothesis", "B is better")]
        _decide(http, "sam@example.org", "Triage:", request_id, triage)
        before = dict(runtime.functions.invocations)
        mails_before = len(http.outbox())
        _decide(http, "kim@example.org", "Review:", request_id, [("decision", "approve"), ("comment", "")])
        watch = Watch(runtime, request_id)
        stored = watch.store.get_request(request_id)
        assert stored.plan and stored.plan.pilot_plan
        pilot = stored.plan.pilot_plan
        watch.until(watch.settled, 120, "the pilot to start")
        watch.run_to_the_verdict(pilot)
        events = watch.sfn.get_execution_history(executionArn=watch.arn, maxResults=1000)["events"]
        states = Counter(
            e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e
        )
        invocations = {
            name: runtime.functions.invocations.get(runtime.function_name(name), 0)
            - before.get(runtime.function_name(name), 0)
            for name in PILOT_FUNCTIONS
        }
        # The review's own mails (approved, live links) are the lifecycle's: section 3.
        mails = [
            m
            for m in http.outbox()[mails_before:]
            if request_id in m["text"] and m["subject"].startswith("Pilot result")
        ]
        return {
            "slots": len(pilot.slots),
            "channels": len(stored.plan.channels),
            "states": states,
            "transitions": sum(states.values()) + 2,  # + the lifecycle's "Start pilot" and "Piloting"
            "invocations": invocations,
            "mails": Counter(m["subject"].split(":")[0] for m in mails),
        }


def section(found: dict[str, Any], prices: Prices | None = None) -> list[str]:
    prices = prices or Prices()
    invocations = sum(found["invocations"].values())
    mails = sum(found["mails"].values())
    transitions = found["transitions"]
    cost = {
        "state transitions": transitions * prices.sfn_transition,
        "Lambda requests": invocations * prices.lambda_request,
        "Lambda duration (assumed 100 ms, 512 MB)": invocations
        * ASSUMED_SECONDS
        * MEMORY_GB
        * prices.lambda_gb_second_arm64,
        "mails": mails * prices.ses_mail,
    }
    states = ", ".join(f"{name} ×{count}" for name, count in sorted(found["states"].items()))
    lines = [
        TITLE,
        "",
        (__doc__ or "").split("\n\n", 1)[1].replace("\n", " ").strip(),
        "",
        f"One pilot: {found['slots']} slots on {found['channels']} channel; {transitions} state transitions "
        f"(pilot states entered: {states}); Lambda invocations: "
        + ", ".join(f"{n} ×{c}" for n, c in found["invocations"].items())
        + "; mails: "
        + ", ".join(f"*{s}* ×{c}" for s, c in found["mails"].items())
        + ".",
        "",
        "| item | per pilot | $ per 1,000 pilots |",
        "|---|---|---|",
        f"| state transitions | {transitions} | ${cost['state transitions'] * 1000:.4f} |",
        f"| Lambda requests | {invocations} | ${cost['Lambda requests'] * 1000:.4f} |",
        f"| Lambda duration (assumed 100 ms, 512 MB) | {invocations * ASSUMED_SECONDS:.1f} s | "
        f"${cost['Lambda duration (assumed 100 ms, 512 MB)'] * 1000:.4f} |",
        f"| mails | {mails} | ${cost['mails'] * 1000:.4f} |",
        f"| **total (without the sweep and DynamoDB)** | | **${sum(cost.values()) * 1000:.4f}** |",
        "",
        "Transitions grow with the slots: per slot about 5 (next slot, the choice, the wait, next slot "
        'again, the choice) plus the publish Map and one "Publish post" per channel; the evaluation '
        "adds a few, and one more round of 3 for every half hour it waits for a late figure.",
        "",
        f"*Section 6 regenerated by `python -m benchmarks.pilots` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC "
        f"(load average {', '.join(f'{v:.2f}' for v in os.getloadavg())}).*",
    ]
    return lines


def write(lines: list[str], path: Path = RESULTS) -> None:
    text = path.read_text() if path.exists() else ""
    block = "\n".join(lines) + "\n"
    if TITLE in text:
        head, _, rest = text.partition(TITLE)
        following = rest.find("\n## ")
        text = head + block + (rest[following + 1 :] if following >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + block
    path.write_text(text)


def main() -> int:
    found = run()
    write(section(found))
    print(f"[benchmarks] the pilot path written to {RESULTS}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
