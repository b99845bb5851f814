#!/usr/bin/env python3
"""Times the script-limit reproductions of issue 12 against `verdict serve --db :memory:` over
stdio: runaway scripts, pattern backtracking, C loops, invalid UTF-8, checkStats with 200 metrics,
and SIGTERM with 199 queued runaway scripts. Usage: bench/script_limits.py build/verdict"""
import json
import os
import signal
import subprocess
import sys
import time

BINARY = sys.argv[1] if len(sys.argv) > 1 else "build/verdict"
RUNAWAY = "xpcall(function() while true do end end, function() while true do end end)"


def serve():
    return subprocess.Popen([BINARY, "serve", "--db", ":memory:", "--log-level", "error"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, bufsize=0)


def line(method, params):
    return json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}) + "\n"


def call(server, method, params):
    server.stdin.write(line(method, params).encode())
    return json.loads(server.stdout.readline())


def timed(server, method, params):
    start = time.perf_counter()
    reply = call(server, method, params)
    return (time.perf_counter() - start) * 1000, reply


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def shown(reply):
    return (reply.get("error", {}).get("message") or json.dumps(reply.get("result")))[:100]


server = serve()
for name, script in [
        ("runaway xpcall handler", RUNAWAY),
        ("handler loops on an error", "xpcall(function() error('x') end, function() while true do end end)"),
        ("pattern, 400 bytes", "return string.rep('=', 400):match('^(.-)=(.-)=(.-)=(.-);$')"),
        ("plain find, quadratic", "local s, n = string.rep('=', 4e6), string.rep('=', 2e5) .. 'x' "
                                  "return s:find(n, 1, true)"),
        ("table.move of 1e14", "table.move({}, 1, 1e14, 2)"),
        ("string.rep('', 1e15)", "return #string.rep('', 1e15)"),
        ("write through pairs(string)", "local _, real = pairs(string) real.format = nil"),
        ("invalid UTF-8 result", "return '\\255\\254'")]:
    ms, reply = timed(server, "do", {"script": script})
    print(f"{name}: {ms:.0f} ms: {shown(reply)}")

experiment = call(server, "do", {"type": "Experiment", "verb": "create", "data": {
    "name": "Many metrics", "primaryMetric": "m0",
    "variants": [{"key": "a", "weight": 50}, {"key": "b", "weight": 50}]}})["result"]["id"]
call(server, "do", {"type": "Experiment", "verb": "start", "id": experiment})
call(server, "do", {"type": "Experiment", "verb": "assign", "id": experiment,
                    "data": {"units": [{"unit": f"u{i}"} for i in range(10000)]}})
for metric in range(200):
    call(server, "do", {"type": "Experiment", "verb": "track", "id": experiment, "data": {
        "events": [{"unit": f"u{i}", "metric": f"m{metric}"} for i in range(0, 10000, 20)]}})
for _ in range(3):
    ms, reply = timed(server, "do", {"type": "Experiment", "verb": "checkStats", "id": experiment})
    print(f"checkStats, 200 metrics x 500 units, 10,000 exposures: {ms:.0f} ms, "
          f"consistent: {reply['result']['consistent']}")
ms, reply = timed(server, "do", {"type": "Experiment", "verb": "track", "id": experiment,
                                 "data": {"unit": "u1", "metric": "m200"}})
print(f"metric 201: {ms:.0f} ms: {shown(reply)}")
server.stdin.close()
server.wait()

server = serve()
call(server, "ping", {})
server.stdin.write(line("do", {"script": RUNAWAY}).encode() * 200)
# Replies come after the batch commits: wait for half a second of engine CPU instead, a few
# scripts done and most still queued.
while cpu_seconds(server.pid) < 0.5:
    time.sleep(0.01)
start = time.perf_counter()
server.send_signal(signal.SIGTERM)
status = server.wait()
seconds = time.perf_counter() - start
replies = server.stdout.read().decode()
print(f"SIGTERM with runaway scripts running and queued: exit {status} after {seconds:.2f} s, "
      f"{replies.count(chr(10))} replies, {replies.count('shutting down')} stopped by the shutdown")
