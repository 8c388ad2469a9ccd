#!/usr/bin/env python3
"""Drives signed cod-fulfillment webhooks at a fixed rate and measures, with bench/FakeProvider's
arrival times, the latency from sending each webhook to its SMS request reaching the provider.

Usage: e2e_load.py HERALD_PORTS FAKE_PORT RATE SECONDS SECRET RUN_ID
HERALD_PORTS is one port or several, comma-separated (instances on one database): webhook n goes to
port n mod their count, round-robin, as a load balancer would spread them.
Prints one line of figures; exits 1 when a message is lost or duplicated.
"""
import hashlib, hmac, http.client, json, sys, threading, time

herald_ports = [int(p) for p in sys.argv[1].split(",")]
fake_port, rate, seconds = int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
secret, run = sys.argv[5].encode(), sys.argv[6]
total = int(rate * seconds)
sent_at, statuses, lock = {}, {}, threading.Lock()
next_index = [0]
start = time.time() + 0.5


def body_for(n):
    reference = "BENCH-%s-%07d" % (run, n)
    return reference, json.dumps({
        "event": "order.status_updated", "timestamp": "2026-05-10T14:00:00+01:00",
        "order": {"reference": reference, "old_status": "out_for_delivery", "new_status": "delivered", "amount": 1799,
                  "currency": "MAD", "tracking_number": "F-CSA6SFJ6EMY"},
        "customer": {"name": "Karim Mansouri", "phone": "+212661234567", "city": "Casablanca"},
    }, separators=(",", ":")).encode()


def worker():
    connections = {port: http.client.HTTPConnection("127.0.0.1", port, timeout=10) for port in herald_ports}
    while True:
        with lock:
            n = next_index[0]
            next_index[0] += 1
        if n >= total:
            return
        reference, body = body_for(n)
        signature = hmac.new(secret, body, hashlib.sha256).hexdigest()
        delay = start + n / rate - time.time()
        if delay > 0:
            time.sleep(delay)
        port = herald_ports[n % len(herald_ports)]
        t = time.time()
        try:
            connection = connections[port]
            connection.request("POST", "/webhooks/cod-fulfillment", body,
                               {"Content-Type": "application/json", "X-Webhook-Signature": signature})
            response = connection.getresponse()
            response.read()
            status = response.status
        except Exception as error:  # noqa: BLE001 - counted, reported
            status = "error: %s" % error
            connections[port] = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        with lock:
            sent_at[reference] = t
            statuses[status] = statuses.get(status, 0) + 1


threads = [threading.Thread(target=worker) for _ in range(min(64, max(8, int(rate / 20))))]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
behind = time.time() - (start + total / rate)

accepted = statuses.get(200, 0)
stats = {}
deadline = time.time() + 20
while time.time() < deadline:
    connection = http.client.HTTPConnection("127.0.0.1", fake_port, timeout=10)
    connection.request("GET", "/stats")
    stats = json.loads(connection.getresponse().read())
    if stats["distinct"] >= accepted:
        break
    time.sleep(0.2)

latencies = sorted((stats["arrivals"][ref] - t) * 1000 for ref, t in sent_at.items() if ref in stats["arrivals"])
lost = accepted - stats["distinct"]
duplicates = stats["requests"] - stats["distinct"]


def pct(p):
    return latencies[min(len(latencies) - 1, int(len(latencies) * p))] if latencies else float("nan")


print("rate %4d/s  instances %d  webhooks %6d (answers %s)  provider requests %6d  undelivered after drain %d  duplicated %d  "
      "latency p50 %6.1f ms  p99 %6.1f ms  max %7.1f ms  load generator behind schedule by %.1f s" % (
          rate, len(herald_ports), total, statuses, stats["requests"], lost, duplicates, pct(0.5), pct(0.99),
          latencies[-1] if latencies else float("nan"), max(0.0, behind)))
sys.exit(1 if lost or duplicates or accepted != total else 0)
