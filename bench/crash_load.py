#!/usr/bin/env python3
"""Crash test driver: sends N signed webhooks like a provider that retries until it gets a 200,
while bench/crash kills and restarts herald. Writes the references it got a 200 for to ACKED and
every answer per reference to ACKED.answers.json.

Usage: crash_load.py PORTS N RATE SECRET RUN_ID ACKED_FILE [REDELIVER_EVERY]

PORTS is one port or several, comma-separated (instances on one database): webhooks go round-robin
across them, and a request that finds its instance down goes to the next one, as a load balancer
would send it. Every REDELIVER_EVERY-th order (0: none) is also delivered a second time, at the
same moment, to the next instance: a provider's retry racing its first delivery, which must be
stored once and answered "duplicate" (or the first one must).
"""
import hashlib, hmac, http.client, json, sys, threading, time

ports = [int(p) for p in sys.argv[1].split(",")]
total, rate, secret, run, acked_file = int(sys.argv[2]), float(sys.argv[3]), sys.argv[4].encode(), sys.argv[5], sys.argv[6]
redeliver_every = int(sys.argv[7]) if len(sys.argv) > 7 else 0
answers = {}  # reference → ["accepted" | "duplicate", …], one per 200
retries = [0]
lock = threading.Lock()
local = threading.local()


def deliver(reference, body, signature, index):
    """Posts until a 200 (or 60 s), moving to the next instance when one does not answer."""
    connections = getattr(local, "connections", None)
    if connections is None:
        connections = local.connections = {}
    deadline = time.time() + 60
    while time.time() < deadline:
        port = ports[index % len(ports)]
        try:
            if port not in connections:
                connections[port] = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connections[port].request("POST", "/webhooks/cod-fulfillment", body,
                                      {"Content-Type": "application/json", "X-Webhook-Signature": signature})
            response = connections[port].getresponse()
            answer = response.read()
            if response.status == 200:
                with lock:
                    answers.setdefault(reference, []).append("duplicate" if b'"duplicate"' in answer else "accepted")
                return
        except Exception:  # noqa: BLE001 - the instance is down: retry like a provider, at the next one
            connections.pop(port, None)
            index += 1
        with lock:
            retries[0] += 1
        time.sleep(0.05)


redeliveries = []
start = time.time()
for n in range(total):
    reference = "BENCH-%s-%07d" % (run, n)
    body = json.dumps({
        "event": "order.status_updated", "timestamp": "2026-05-10T14:00:00+01:00",
        "order": {"reference": reference, "old_status": "out_for_delivery", "new_status": "delivered"},
        "customer": {"name": "Karim Mansouri", "phone": "+212661234567"},
    }, separators=(",", ":")).encode()
    signature = hmac.new(secret, body, hashlib.sha256).hexdigest()
    delay = start + n / rate - time.time()
    if delay > 0:
        time.sleep(delay)
    if redeliver_every and n % redeliver_every == 0:
        again = threading.Thread(target=deliver, args=(reference, body, signature, n + 1))
        again.start()
        redeliveries.append(again)
    deliver(reference, body, signature, n)
for again in redeliveries:
    again.join()

acked = sorted(answers)
with open(acked_file, "w") as out:
    out.write("\n".join(acked) + "\n")
with open(acked_file + ".answers.json", "w") as out:
    json.dump(answers, out)
duplicates = sum(a.count("duplicate") for a in answers.values())
print("sent %d webhooks across %d instance(s), %d of them twice at once%s; %d acknowledged, "
      "%d answers \"duplicate\", %d retried requests" % (
          total, len(ports), len(redeliveries), " (to two instances)" if len(ports) > 1 else "", len(acked),
          duplicates, retries[0]))
