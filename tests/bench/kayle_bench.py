#!/usr/bin/python3
"""kayle_bench.py: load generator and reference timings for tests/bench/kayle.sh.

Pre-generates distinct signed Kayle deliveries with the independent sender
(tests/tools/kayle_sign.py), POSTs them to idhook through a web server and
prints throughput and latency, then times the two costs a delivery cannot
avoid: one RSA-2048 private-key operation and one fork+exec of a hook.
It prints numbers only; it never asserts timings.  Every phase is bounded
by a count and by --max-seconds.
"""

import argparse
import http.client
import importlib.util
import os
import queue
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse


def load_signer(path):
    spec = importlib.util.spec_from_file_location("kayle_sign", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def make_deliveries(ks, n, secret, pub):
    """n distinct deliveries cycling through the six event types."""
    out = []
    t = str(int(time.time()))
    for i in range(n):
        etype = ks.EVENT_TYPES[i % len(ks.EVENT_TYPES)]
        body, sig, _, did = ks.build(etype, pub, "k1", secret, t)
        out.append((body, {"Content-Type": "application/jose",
                           "X-Kayle-Signature": sig,
                           "X-Kayle-Event": etype,
                           "X-Kayle-Delivery-Id": did}))
    return out


class Client:
    """One keep-alive connection; reconnects if the server closes it."""

    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        self.host, self.port, self.path = u.hostname, u.port, u.path
        self.conn = None

    def post(self, body, headers):
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port,
                                                       timeout=30)
            try:
                t0 = time.perf_counter()
                self.conn.request("POST", self.path, body, headers)
                r = self.conn.getresponse()
                data = r.read()
                dt = time.perf_counter() - t0
                if r.getheader("Connection", "").lower() == "close":
                    self.close()
                return r.status, data, dt
            except (http.client.HTTPException, OSError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def run(url, deliveries, conc, deadline):
    """Send all deliveries with conc clients; returns (lat, wall, results)."""
    q = queue.Queue()
    for d in deliveries:
        q.put(d)
    lat, results = [], {}
    lock = threading.Lock()

    def worker():
        c = Client(url)
        while time.monotonic() < deadline:
            try:
                body, hdrs = q.get_nowait()
            except queue.Empty:
                break
            try:
                status, data, dt = c.post(body, hdrs)
                key = "%d %s" % (status, data.decode(errors="replace").strip())
            except Exception as e:  # counted, not fatal: it's a benchmark
                key, dt = "error %s" % type(e).__name__, None
            with lock:
                results[key] = results.get(key, 0) + 1
                if dt is not None:
                    lat.append(dt)
        c.close()

    threads = [threading.Thread(target=worker) for _ in range(conc)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return lat, time.perf_counter() - t0, results


def pct(sorted_vals, p):
    if not sorted_vals:
        return float("nan")
    k = min(len(sorted_vals) - 1, max(0, int(round(p / 100.0 *
                                                    (len(sorted_vals) - 1)))))
    return sorted_vals[k]


def report(name, lat, wall, results):
    s = sorted(lat)
    n = len(s)
    rate = n / wall if wall > 0 else float("nan")
    print("%-34s n=%-4d %8.1f deliveries/s  p50 %7.2f ms  p99 %7.2f ms  "
          "max %7.2f ms" % (name, n, rate, pct(s, 50) * 1e3, pct(s, 99) * 1e3,
                            (s[-1] if s else float("nan")) * 1e3))
    print("%-34s responses: %s" % ("", ", ".join(
        "%s x%d" % (k, v) for k, v in sorted(results.items()))))
    return pct(s, 50)


def rsa_python(ks, keyfile, count):
    """Mean seconds of one RSA-OAEP-SHA256 decrypt (private-key op)."""
    key = ks.load_private(keyfile)
    ct = key.public_key().encrypt(os.urandom(32), ks.OAEP)
    key.decrypt(ct, ks.OAEP)
    t0 = time.perf_counter()
    for _ in range(count):
        key.decrypt(ct, ks.OAEP)
    return (time.perf_counter() - t0) / count


def rsa_openssl(seconds):
    """Seconds per RSA-2048 sign from `openssl speed`, or None."""
    try:
        out = subprocess.run(["openssl", "speed", "-seconds", str(seconds),
                              "rsa2048"], capture_output=True, text=True,
                             timeout=seconds * 6 + 10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"^rsa\s+2048 bits\s+([0-9.]+)s", out, re.M)
    return float(m.group(1)) if m else None


def fork_exec(hook, count):
    """Mean seconds to posix_spawn the hook script and wait for it."""
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
    devnull = os.open(os.devnull, os.O_RDWR)
    acts = [(os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, devnull, 1),
            (os.POSIX_SPAWN_DUP2, devnull, 2)]
    t0 = time.perf_counter()
    for _ in range(count):
        pid = os.posix_spawn(hook, [hook], env, file_actions=acts)
        os.waitpid(pid, 0)
    dt = (time.perf_counter() - t0) / count
    os.close(devnull)
    return dt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--signer", required=True)
    ap.add_argument("--secret-file", required=True,
                    help="the endpoint's secret file; signs with its last line")
    ap.add_argument("--pubkey", required=True)
    ap.add_argument("--privkey", required=True)
    ap.add_argument("--hook", required=True)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--conc", type=int, default=4)
    ap.add_argument("--max-seconds", type=float, default=120)
    a = ap.parse_args()
    ks = load_signer(a.signer)
    deadline = time.monotonic() + a.max_seconds
    pub = ks.load_public(a.pubkey)
    secret = ks.read_secrets(a.secret_file)[-1]

    t0 = time.perf_counter()
    seq = make_deliveries(ks, a.n, secret, pub)
    par = make_deliveries(ks, a.n, secret, pub)
    print("pre-generated %d deliveries in %.2f s (mean body %d bytes)" % (
        2 * a.n, time.perf_counter() - t0,
        sum(len(b) for b, _ in seq) // max(1, len(seq))))

    lat, wall, res = run(a.url, seq, 1, deadline)
    p50_seq = report("sequential, 1 keep-alive client", lat, wall, res)
    lat, wall, res = run(a.url, par, a.conc, deadline)
    report("concurrent, %d clients" % a.conc, lat, wall, res)
    lat, wall, res = run(a.url, seq, 1, deadline)
    p50_dup = report("replay (duplicates, no hook)", lat, wall, res)
    if time.monotonic() >= deadline:
        print("note: stopped at --max-seconds=%g; counts above are partial"
              % a.max_seconds)

    rsa_py = rsa_python(ks, a.privkey, 200)
    print("RSA-2048 OAEP-SHA256 decrypt (Python cryptography = OpenSSL, "
          "x200):    %7.3f ms" % (rsa_py * 1e3))
    rsa_ossl = rsa_openssl(2)
    if rsa_ossl is not None:
        print("RSA-2048 sign (openssl speed -seconds 2 rsa2048):           "
              "         %7.3f ms" % (rsa_ossl * 1e3))
    fe = fork_exec(a.hook, 200)
    print("fork+exec+wait of the trivial /bin/sh hook (posix_spawn x200):   "
          "    %7.3f ms" % (fe * 1e3))
    print("ratios (sequential p50 %.2f ms): / RSA decrypt = %.1f, "
          "/ fork+exec = %.1f; duplicate p50 / RSA decrypt = %.1f" % (
              p50_seq * 1e3, p50_seq / rsa_py, p50_seq / fe, p50_dup / rsa_py))
    return 0


if __name__ == "__main__":
    sys.exit(main())
