#!/usr/bin/env python3
"""End-to-end A/B test against `verdict serve`, standard library only.

Starts a server on a temporary database, creates an experiment with a feature flag linked to it,
enrolls simulated users in batches (pipelined over one TCP connection), records their
conversions, analyzes after every chunk until the always-valid (mSPRT) test names a winner,
concludes the experiment and shows the shipped `concluded` hook rolling the flag out.

    python3 examples/ab_test_demo.py [path/to/verdict]      (default: ./build/verdict)
    python3 examples/ab_test_demo.py --throughput [path/to/verdict]

`--throughput` instead measures batched assignment over the same pipelined connection: requests
of 1,000 new units each, 8 in flight, for 5 seconds, then checks every exposure was recorded.

The simulation is deterministic: a fixed seed drives who converts, and Verdict's assignment is
a hash of the experiment's seed and the unit id, so every run prints the same figures (timings
aside).
"""

import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

THROUGHPUT_SECONDS = 5
THROUGHPUT_BATCH = 1_000
THROUGHPUT_WINDOW = 8  # requests in flight

USERS = 100_000
CHUNK = 10_000  # users enrolled between two analyses
BATCH = 5_000  # units (or events) per request; the server accepts up to 10,000
TRUE_RATE = {"control": 0.100, "green": 0.115}
SEED = 20240601
EXPERIMENT = "Checkout button color"


class Verdict:
    """A JSON-RPC 2.0 client over one TCP connection: one message per line, replies in order."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = self.sock.makefile("rb")
        self.next_id = 0

    def pipeline(self, calls):
        """Sends every (method, params) before reading a reply, so the server can commit them
        together; returns the results in order. Sending runs on a thread because a long
        pipeline's replies would otherwise fill the socket buffers while we are still writing."""
        lines, ids = [], []
        for method, params in calls:
            self.next_id += 1
            ids.append(self.next_id)
            message = {"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params}
            lines.append(json.dumps(message, separators=(",", ":")) + "\n")
        payload = "".join(lines).encode()
        sender = threading.Thread(target=self.sock.sendall, args=(payload,))
        sender.start()
        replies = {}
        for _ in ids:
            reply = json.loads(self.reader.readline())
            replies[reply["id"]] = reply
        sender.join()
        results = []
        for request_id, (method, params) in zip(ids, calls):
            reply = replies[request_id]
            if "error" in reply:
                raise RuntimeError(f"{method} {params.get('verb', '')}: {reply['error']['message']}")
            results.append(reply["result"])
        return results

    def call(self, method, **params):
        return self.pipeline([(method, params)])[0]

    def do(self, noun, verb, id=None, **data):
        params = {"type": noun, "verb": verb, "data": data}
        if id is not None:
            params["id"] = id
        return self.call("do", **params)

    def close(self):
        self.reader.close()
        self.sock.close()


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(binary, db):
    port = free_port()
    server = subprocess.Popen(
        [binary, "serve", "--db", db, "--no-stdio", "--listen", f"tcp://127.0.0.1:{port}",
         "--log-level", "warning"])
    deadline = time.monotonic() + 10
    while True:
        try:
            return server, Verdict(port)
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                sys.exit(f"verdict serve did not start listening on port {port}")
            time.sleep(0.05)


def enroll(client, experiment, users, rng):
    """Assigns `users` in pipelined batches and tracks who converts; returns the assignments."""
    assign_calls = [
        ("do", {"type": "Experiment", "verb": "assign", "id": experiment,
                "data": {"units": [{"unit": u} for u in users[i:i + BATCH]]}})
        for i in range(0, len(users), BATCH)
    ]
    assignments = [a for r in client.pipeline(assign_calls) for a in r["assignments"]]
    # Each user converts with its variant's true rate: the ground truth the test must recover.
    converted = [{"unit": u, "metric": "purchase"} for u, a in zip(users, assignments)
                 if a["inExperiment"] and rng.random() < TRUE_RATE[a["variant"]]]
    track_calls = [
        ("do", {"type": "Experiment", "verb": "track", "id": experiment,
                "data": {"events": converted[i:i + BATCH]}})
        for i in range(0, len(converted), BATCH)
    ]
    client.pipeline(track_calls)
    return assignments


def report(view, enrolled, seconds):
    print()
    print(f"{'variant':<10}{'exposures':>11}{'conversions':>13}{'rate':>9}{'true rate':>11}")
    for row in view["variants"]:
        print(f"{row['variant']:<10}{row['exposures']:>11,}{int(row['conversions']):>13,}"
              f"{row['rate']:>9.2%}{TRUE_RATE[row['variant']]:>11.2%}")
    print()
    print(f"users enrolled       {enrolled:,} of {USERS:,} in {seconds:.1f} s")
    print(f"relative lift        {view['relativeLift']:+.1%} ({view['comparedVariant']} vs control)")
    print(f"p-value (fixed)      {view['pValue']:.2e}")
    print(f"always-valid p       {view['alwaysValidPValueRunningMin']:.2e} (mSPRT log-LR "
          f"{view['msprtLogLRCurrentLook']:.1f})")
    print(f"SRM check            p = {view['srm']['pValue']:.3f}"
          f"{' MISMATCH' if view['srm']['mismatch'] else ', ok'}")
    print(f"recommendation       {view['recommendation']}")


def cpu_seconds(pid):
    """The process's user + system CPU time on Linux (None elsewhere): on a loaded machine the
    server's CPU per assignment says more than the wall-clock rate."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def throughput(client, server):
    """Pipelined batch assignment of new units for THROUGHPUT_SECONDS; returns units per second
    over requests whose reply arrived, i.e. whose exposures are committed."""
    experiment = client.do(
        "Experiment", "create", name="Throughput", primaryMetric="purchase",
        variants=[{"key": "control", "name": "Control", "weight": 50},
                  {"key": "green", "name": "Green", "weight": 50}])["id"]
    client.do("Experiment", "start", experiment)
    # Lines are serialized up front so that the client's own JSON work is not what is measured.
    lines = []
    for b in range(1_000_000 // THROUGHPUT_BATCH):
        units = ",".join(f'{{"unit":"t{b}-{u}"}}' for u in range(THROUGHPUT_BATCH))
        lines.append(f'{{"jsonrpc":"2.0","id":"t{b}","method":"do","params":{{"type":"Experiment",'
                     f'"verb":"assign","id":"{experiment}","data":{{"units":[{units}]}}}}}}\n'
                     .encode())
    window = threading.Semaphore(THROUGHPUT_WINDOW)
    stop = threading.Event()
    sent = [0]

    def send():
        for line in lines:
            window.acquire()
            if stop.is_set():
                return
            client.sock.sendall(line)
            sent[0] += 1
        stop.set()

    sender = threading.Thread(target=send)
    cpu_before = cpu_seconds(server.pid)
    began = time.monotonic()
    sender.start()
    answered = 0
    while time.monotonic() - began < THROUGHPUT_SECONDS and answered < len(lines):
        reply = client.reader.readline()
        if b'"error"' in reply or b'"inExperiment":false' in reply:
            raise RuntimeError(reply[:300].decode())
        answered += 1
        window.release()
    elapsed = time.monotonic() - began
    cpu_after = cpu_seconds(server.pid)
    stop.set()
    window.release()
    sender.join()
    for _ in range(sent[0] - answered):  # drain what is still in flight
        client.reader.readline()
    view = client.do("Experiment", "analyze", experiment)
    recorded = sum(row["exposures"] for row in view["variants"])
    assert recorded == sent[0] * THROUGHPUT_BATCH, (recorded, sent[0])
    print(f"assigned {answered * THROUGHPUT_BATCH:,} units in {elapsed:.2f} s over one connection"
          f" ({THROUGHPUT_BATCH:,} per request, {THROUGHPUT_WINDOW} in flight): "
          f"{answered * THROUGHPUT_BATCH / elapsed:,.0f} assignments/s; "
          f"{recorded:,} exposures recorded")
    if cpu_before is not None and cpu_after is not None:
        cpu = cpu_after - cpu_before
        print(f"server CPU {cpu:.2f} s: {cpu * 1e6 / (answered * THROUGHPUT_BATCH):.1f} us per "
              f"assignment, {answered * THROUGHPUT_BATCH / cpu:,.0f} assignments per CPU-second")


def main():
    args = [a for a in sys.argv[1:] if a != "--throughput"]
    binary = args[0] if args else "./build/verdict"
    if not os.access(binary, os.X_OK):
        sys.exit(f"no verdict executable at {binary}; build it or pass its path")
    workdir = tempfile.mkdtemp(prefix="verdict-demo-")
    server, client = start_server(binary, os.path.join(workdir, "demo.db"))
    try:
        if "--throughput" in sys.argv[1:]:
            throughput(client, server)
            return
        experiment = client.do(
            "Experiment", "create", name=EXPERIMENT, primaryMetric="purchase",
            hypothesis="a green checkout button raises purchases",
            # A fixed hash seed (the id by default) makes the split, hence the report, repeatable.
            seed="checkout-button-color",
            variants=[{"key": "control", "name": "Blue (control)", "weight": 50},
                      {"key": "green", "name": "Green", "weight": 50}])
        flag = client.do("FeatureFlag", "create", key="green-checkout",
                         name="Green checkout button", experiment=experiment["id"],
                         variants=[{"key": "control", "value": False},
                                   {"key": "green", "value": True}])
        client.do("Experiment", "start", experiment["id"])
        print(f"experiment {experiment['id']} '{EXPERIMENT}': control {TRUE_RATE['control']:.1%}"
              f" vs green {TRUE_RATE['green']:.1%} true conversion rate")
        print(f"flag {flag['key']} is {flag.get('status', 'Draft')}; "
              f"analyzing every {CHUNK:,} users\n")

        rng = random.Random(SEED)
        users = [f"user-{i:06d}" for i in range(USERS)]
        began = time.monotonic()
        print(f"{'users':>8}{'control':>10}{'green':>10}{'lift':>8}{'always-valid p':>16}  verdict")
        for enrolled in range(CHUNK, USERS + 1, CHUNK):
            enroll(client, experiment["id"], users[enrolled - CHUNK:enrolled], rng)
            view = client.do("Experiment", "analyze", experiment["id"])
            rates = {row["variant"]: row["rate"] for row in view["variants"]}
            print(f"{enrolled:>8,}{rates['control']:>10.2%}{rates['green']:>10.2%}"
                  f"{view['relativeLift']:>+8.1%}{view['alwaysValidPValueRunningMin']:>16.2e}  "
                  f"{'winner: ' + view['winner'] if 'winner' in view else 'keep going'}")
            if "winner" in view:
                break
        report(view, enrolled, time.monotonic() - began)
        if "winner" not in view:
            print("\nno winner after every user: stopping without a rollout")
            client.do("Experiment", "stop", experiment["id"])
            return

        concluded = client.do("Experiment", "conclude", experiment["id"],
                              winner=view["winner"], confidence=view["confidence"])
        print(f"\nconcluded             winner {concluded['winner']} at "
              f"{concluded['confidence']}% confidence")
        flag = client.call("get", type="FeatureFlag", id=flag["id"])
        print(f"flag {flag['key']:<15} {flag['status']}, rolloutPercentage "
              f"{flag['rolloutPercentage']}  (the shipped concluded hook)")
        metric = client.call("find", type="Metric", filter={"name": f"Experiment: {EXPERIMENT}"})
        for m in metric["items"]:
            print(f"metric               '{m['name']}' {m['type']} value {m['value']}")
        tasks = client.call("find", type="Activity", filter={"type": "Task"})
        for task in tasks["items"]:
            print(f"activity             {task['type']} '{task['subject']}' {task['status']}")
        check = client.do("Experiment", "checkStats", experiment["id"])
        print(f"checkStats           incremental statistics match a recomputation: "
              f"{check['consistent']}")
        assert flag["status"] == "RolledOut", flag
    finally:
        client.close()
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
