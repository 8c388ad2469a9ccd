#!/usr/bin/env python3
"""Crash test driver: sends N signed webhooks like a provider that retries until it gets a 200,
while bench/crash kills and restarts herald. Writes the references it got a 200 for to ACKED.

Usage: crash_load.py HERALD_PORT N RATE SECRET RUN_ID ACKED_FILE
"""
import hashlib, hmac, http.client, json, sys, time

port, total, rate, secret, run, acked_file = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4].encode(), sys.argv[5], sys.argv[6]
acked = []
retries = 0
connection = None
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
    deadline = time.time() + 60
    while time.time() < deadline:  # a provider retries until it gets a 200
        try:
            if connection is None:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("POST", "/webhooks/cod-fulfillment", body,
                               {"Content-Type": "application/json", "X-Webhook-Signature": signature})
            response = connection.getresponse()
            response.read()
            if response.status == 200:
                acked.append(reference)
                break
        except Exception:  # noqa: BLE001 - the server is down: retry like a provider
            connection = None
        retries += 1
        time.sleep(0.05)
with open(acked_file, "w") as out:
    out.write("\n".join(acked) + "\n")
print("sent %d webhooks, %d acknowledged, %d retried requests" % (total, len(acked), retries))
