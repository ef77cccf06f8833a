#!/usr/bin/python3
"""queue_bench.py: load generator for queue mode (SPEC section 9).

Used by tests/bench/queue.sh (numbers) and tests/integration/queue.sh
(200 deliveries at once).  Deliveries are made by the independent sender
(tests/tools/kayle_sign.py) through tests/bench/kayle_bench.py's helpers,
posted to idhook through a web server, and counted per answer.

  send   N deliveries to one URL; prints one "RESPONSE <count> <answer>"
         line per distinct answer and the latency line.
  bench  N deliveries to a sync endpoint, then N to a queue endpoint
         whose hook appends one line per run to LEDGER; prints
         deliveries/s and p50/p99 answer latency of each mode, and how
         long the queue took to drain (the ledger reaching N lines).

Numbers only: timings are never asserted.  Every phase is bounded by a
count and by --max-seconds.
"""

import argparse
import importlib.util
import os
import sys
import time


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


KB = load("kayle_bench", os.path.join(os.path.dirname(
    os.path.abspath(__file__)), "kayle_bench.py"))


def lines(path):
    try:
        with open(path, "rb") as f:
            return sum(1 for _ in f)
    except OSError:
        return 0


def deliveries(a, n):
    ks = KB.load_signer(a.signer)
    pub = ks.load_public(a.pubkey)
    secret = ks.read_secrets(a.secret_file)[-1]
    return KB.make_deliveries(ks, n, secret, pub)


def cmd_send(a):
    ds = deliveries(a, a.n)
    lat, wall, res = KB.run(a.url, ds, a.conc,
                            time.monotonic() + a.max_seconds)
    for k, v in sorted(res.items()):
        print("RESPONSE %d %s" % (v, k))
    KB.report("%d deliveries, %d clients" % (a.n, a.conc), lat, wall, res)
    return 0


def cmd_bench(a):
    deadline = time.monotonic() + a.max_seconds
    t0 = time.perf_counter()
    sync_d = deliveries(a, a.n)
    queue_d = deliveries(a, a.n)
    print("pre-generated %d deliveries in %.2f s" % (
        2 * a.n, time.perf_counter() - t0))

    lat, wall, res = KB.run(a.sync_url, sync_d, a.conc, deadline)
    KB.report("sync, %d clients" % a.conc, lat, wall, res)

    t_first = time.perf_counter()
    lat, wall, res = KB.run(a.queue_url, queue_d, a.conc, deadline)
    t_last = time.perf_counter()
    KB.report("queue, %d clients" % a.conc, lat, wall, res)
    queued = res.get('202 {"status":"queued"}', 0)

    # The drain: until every queued delivery's hook has run once.
    done = lines(a.ledger)
    while done < queued and time.monotonic() < deadline:
        time.sleep(0.05)
        done = lines(a.ledger)
    t_drain = time.perf_counter()
    print("queue drained: %d of %d queued hooks ran; %.2f s after the "
          "first request, %.2f s after the last answer (%.1f hooks/s "
          "overall)" % (done, queued, t_drain - t_first, t_drain - t_last,
                        done / (t_drain - t_first) if done else 0.0))
    if done < queued:
        print("note: stopped at --max-seconds=%g; the drain is partial"
              % a.max_seconds)
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("send", "bench"):
        p = sub.add_parser(name)
        p.add_argument("--signer", required=True)
        p.add_argument("--secret-file", required=True,
                       help="the endpoint's secret file; signs with its "
                       "last line")
        p.add_argument("--pubkey", required=True)
        p.add_argument("--n", type=int, default=200)
        p.add_argument("--conc", type=int, default=4)
        p.add_argument("--max-seconds", type=float, default=60)
        if name == "send":
            p.add_argument("--url", required=True)
        else:
            p.add_argument("--sync-url", required=True)
            p.add_argument("--queue-url", required=True)
            p.add_argument("--ledger", required=True,
                           help="one line per queue-mode hook run")
    a = ap.parse_args()
    return cmd_send(a) if a.cmd == "send" else cmd_bench(a)


if __name__ == "__main__":
    sys.exit(main())
