#!/usr/bin/env python3
"""Writes COUNT unique, signed cod-fulfillment webhooks for bench/signed.lua.

Usage: gen_payloads.py OUT COUNT REFERENCE_PREFIX SECRET

One request per line: `<hex HMAC-SHA256 of the body> <compact JSON body>`. Each body is the seed
example with order.reference = REFERENCE_PREFIX + n, so every request is a new event for Herald.
"""
import hashlib
import hmac
import json
import sys

SEED = {
    "event": "order.status_updated",
    "timestamp": "2026-05-09T12:00:00+02:00",
    "order": {
        "reference": "ORD-000129",
        "old_status": "out_for_delivery",
        "new_status": "delivered",
        "amount": 1799,
        "currency": "MAD",
        "tracking_number": "F-CSA6SFJ6EMY",
        "delivery_notes": "Call before delivery",
        "created_at": "2026-05-08T12:25:44+01:00",
    },
    "customer": {
        "name": "Karim Mansouri",
        "phone": "+212661234567",
        "city": "Casablanca",
        "address": "123 Bd Mohammed V",
    },
    "product": {"name": "Argivit Classic Tablets", "sku": "MA-ArgivitClassic"},
    "items": [
        {"product_name": "Argivit Classic Tablets", "sku": "MA-ArgivitClassic", "quantity": 1, "price": 1799}
    ],
}


def main() -> None:
    out, count, prefix, secret = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4].encode()
    marker = "@@REFERENCE@@"
    seed = dict(SEED, order=dict(SEED["order"], reference=marker))
    # Serialize once and splice each reference in: identical bytes to json.dumps per body (the
    # references are plain ASCII), without paying for 300k dumps.
    head, tail = json.dumps(seed, separators=(",", ":"), ensure_ascii=False).split(marker)
    head, tail = head.encode(), tail.encode()
    mac = hmac.new(secret, digestmod=hashlib.sha256)
    with open(out, "wb", buffering=1 << 20) as f:
        for n in range(count):
            body = head + f"{prefix}{n}".encode() + tail
            h = mac.copy()
            h.update(body)
            f.write(h.hexdigest().encode() + b" " + body + b"\n")
    # Self-check: the first line parses back to the seed with only the reference changed.
    with open(out, "rb") as f:
        sig, body = f.readline().rstrip(b"\n").split(b" ", 1)
    assert hmac.new(secret, body, hashlib.sha256).hexdigest() == sig.decode()
    assert json.loads(body) == dict(SEED, order=dict(SEED["order"], reference=f"{prefix}0"))


if __name__ == "__main__":
    main()
