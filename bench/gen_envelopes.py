#!/usr/bin/env python3
"""Writes N signed cod-fulfillment envelopes (herald export's format) into DIR, for bench/dryrun.

Each order goes through prepared → out_for_delivery → delivered, so rules match and messages
render; every 50th envelope is a redelivery. Usage: gen_envelopes.py DIR N
"""
import hashlib, hmac, json, pathlib, sys

SECRET = b"herald-bench-secret"
out = pathlib.Path(sys.argv[1])
count = int(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)
steps = [("preparing", "prepared"), ("prepared", "out_for_delivery"), ("out_for_delivery", "delivered")]
written = 0
order = 0
while written < count:
    order += 1
    for index, (old, new) in enumerate(steps):
        if written >= count:
            break
        body = json.dumps({
            "event": "order.status_updated", "timestamp": "2026-05-10T1%d:00:00+01:00" % index,
            "order": {"reference": "BENCH-%07d" % order, "old_status": old, "new_status": new, "amount": 1799,
                      "currency": "MAD", "tracking_number": "F-CSA6SFJ6EMY", "delivery_notes": "Call before delivery",
                      "created_at": "2026-05-08T12:25:44+01:00"},
            "customer": {"name": "Karim Mansouri", "phone": "+212661234567", "city": "Casablanca", "address": "123 Bd Mohammed V"},
            "items": [{"product_name": "Argivit Classic Tablets", "sku": "MA-ArgivitClassic", "quantity": 1, "price": 1799}],
        }, separators=(",", ":"))
        signature = hmac.new(SECRET, body.encode(), hashlib.sha256).hexdigest()
        envelope = {"provider": "cod-fulfillment", "received_at": "2026-05-10T1%d:00:01.000Z" % index,
                    "headers": {"X-Webhook-Signature": signature}, "body": body}
        (out / ("%07d.json" % written)).write_text(json.dumps(envelope, separators=(",", ":")) + "\n")
        written += 1
