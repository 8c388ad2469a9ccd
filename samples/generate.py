#!/usr/bin/env python3
"""Writes samples/<provider>/sequence/*.json: one order's life per provider, as envelopes
(`herald export`'s format) signed the way each provider signs, with the documented test secret
`herald-test-secret` (header-token providers: the test values below).

Each sequence has something a live worker must handle: a redelivery (same event again), a late
event older than the order's known status, an event at night (quiet hours), a sandbox event.

It also writes the README's worked example of a provider declared without a preset,
docs/examples/souk-express/samples/souk-express/order-shipped.json, signed with the same secret
(SOUK_WEBHOOK_SECRET=herald-test-secret).

Run from anywhere: python3 samples/generate.py (it rewrites the sequence folders).
"""
import base64, hashlib, hmac, json, pathlib, shutil

ROOT = pathlib.Path(__file__).resolve().parent
SECRET = b"herald-test-secret"
ARMADA_APP_ID = "armada-app-7f3c"
STOREFRONT_KEY = "sf-key-91c2d"


def write(provider, name, received_at, headers, body):
    folder = ROOT / provider / "sequence"
    folder.mkdir(parents=True, exist_ok=True)
    envelope = {"provider": provider, "received_at": received_at, "headers": headers, "body": body}
    (folder / name).write_text(json.dumps(envelope, ensure_ascii=False) + "\n", encoding="utf-8")


def compact(payload):
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def hex_hmac(body):
    return hmac.new(SECRET, body.encode("utf-8"), hashlib.sha256).hexdigest()


def b64_hmac(body):
    return base64.b64encode(hmac.new(SECRET, body.encode("utf-8"), hashlib.sha256).digest()).decode()


def cod():
    steps = [  # (file, old, new, timestamp, received_at)
        ("01-picked_up.json", "pending", "picked_up", "2026-05-10T09:02:00+01:00", "2026-05-10T08:02:03.120Z"),
        ("02-preparing.json", "picked_up", "preparing", "2026-05-10T09:40:00+01:00", "2026-05-10T08:40:01.480Z"),
        # "prepared" (11:15) is held up at the sender and only arrives after the delivery: stale.
        ("03-out_for_delivery.json", "prepared", "out_for_delivery", "2026-05-10T14:05:00+01:00", "2026-05-10T13:05:00.900Z"),
        ("04-out_for_delivery-redelivered.json", "prepared", "out_for_delivery", "2026-05-10T14:05:00+01:00", "2026-05-10T13:06:01.300Z"),
        ("05-delivered.json", "out_for_delivery", "delivered", "2026-05-10T16:48:00+01:00", "2026-05-10T15:48:02.700Z"),
        ("06-prepared-late.json", "preparing", "prepared", "2026-05-10T11:15:00+01:00", "2026-05-10T16:30:00.000Z"),
    ]
    for name, old, new, timestamp, received in steps:
        body = compact({
            "event": "order.status_updated", "timestamp": timestamp,
            "order": {"reference": "ORD-000130", "old_status": old, "new_status": new, "amount": 349,
                      "currency": "MAD", "tracking_number": "F-CSB7TKK8FNZ",
                      "delivery_notes": "Appeler avant de livrer, 2e étage", "created_at": "2026-05-09T20:11:05+01:00"},
            "customer": {"name": "Salma Benali", "phone": "0661234567", "city": "Rabat",
                         "address": "12 Rue Oued Sebou, Agdal"},
            "items": [{"product_name": "Savon noir beldi 250 g", "sku": "SAV-250", "quantity": 2, "price": 174.5}],
        })
        write("cod-fulfillment", name, received,
              {"Content-Type": "application/json", "X-Webhook-Signature": hex_hmac(body)}, body)


def wakilni():
    steps = [
        ("01-order-created.json", "Order Created", None, None, "2024-11-14 14:39:13", "2024-11-14T12:39:14.200Z", "1"),
        ("02-order-confirmed.json", "Order Confirmed", "Pending", "Confirmed", "2024-11-14 15:02:40", "2024-11-14T13:02:41.050Z", "1"),
        ("03-order-confirmed-retry.json", "Order Confirmed", "Pending", "Confirmed", "2024-11-14 15:02:40", "2024-11-14T13:03:41.500Z", "2"),
        ("04-order-completed.json", "Order Completed", "Assigned", "Completed", "2024-11-15 11:20:05", "2024-11-15T09:20:06.700Z", "1"),
    ]
    for index, (name, event, previous, new, timestamp, received, attempt) in enumerate(steps):
        data = {"order_id": 48214, "waybill": "WK-48214"}
        if new:
            data.update({"new_status": new, "previous_status": previous, "updated_at": timestamp})
        else:
            data["created_at"] = timestamp
        event_id = "7d0f4c52-1b1e-4a6e-9a55-%012d" % (index if "retry" not in name else index - 1)
        body = compact({"event_id": event_id, "event": event, "timestamp": timestamp, "data": data})
        write("wakilni", name, received, {
            "content-type": "application/json", "x-webhook-signature": b64_hmac(body),
            "x-attempt-number": attempt, "x-webhook-source": "https://api.wakilni.com",
            "x-webhook-topic": event, "x-webhook-id": "wh_2231", "x-webhook-delivery-id": "dlv_%d" % (index + 100),
        }, body)


def armada():
    steps = [  # Kuwait is UTC+3: the last one lands at 22:40 local, inside quiet hours.
        ("01-dispatched.json", "dispatched", "wh-5f1a-01", "2026-01-07T17:13:26.000Z"),
        ("02-en_route.json", "en_route", "wh-5f1a-02", "2026-01-07T17:31:04.000Z"),
        ("03-en_route-redelivered.json", "en_route", "wh-5f1a-02", "2026-01-07T17:32:04.000Z"),
        ("04-delivered.json", "delivered", "wh-5f1a-03", "2026-01-07T19:40:51.000Z"),
    ]
    for name, status, webhook_id, received in steps:
        body = compact({
            "code": "EAA6CAC9E1", "status": status, "amount": 3.5, "created_at": "2026-01-07T17:10:02.615Z",
            "currency": "KWD", "delivery_fee": 1,
            "customer": {"name": "نادين الصباح", "phone": "+965 5000 1234", "address": "السالمية، قطعة 7، شارع 74"},
            "driver": {"name": "Yousef", "phone": "+965 6000 4321"},
            "logistics": {"tracking_url": "https://tracking.armadadelivery.com/7c1e90d2"},
        })
        write("armada", name, received, {
            "content-type": "application/json", "x-armada-app-id": ARMADA_APP_ID,
            "x-armada-installation-id": "inst-001", "x-armada-webhook-id": webhook_id,
        }, body)


def elebne():
    steps = [
        ("01-order-new.json", {"event": "order.new", "timestamp": "2026-04-04T14:30:00.000Z", "sandbox": False,
         "data": {"referenceNumber": "EL-3K9P2QW7ZT4M8N1", "shopName": "Restaurant Tata Aminata", "status": "NEW",
                  "items": [{"productId": "6612f1a2b3c4d5e6f7890123", "name": "Thiéboudienne Royale", "quantity": 2, "price": 50000}],
                  "totalAmount": 100000, "customerPhone": "+22242345678", "customerName": "Aminata Diallo",
                  "createdAt": "2026-04-04T14:30:00.000Z"}}),
        ("02-order-accepted.json", {"event": "order.accepted", "timestamp": "2026-04-04T14:32:00.000Z", "sandbox": False,
         "data": {"referenceNumber": "EL-3K9P2QW7ZT4M8N1", "status": "PREPARING", "previousStatus": "NEW"}}),
        ("03-order-delivered.json", {"event": "order.delivered", "timestamp": "2026-04-04T15:30:00.000Z", "sandbox": False,
         "data": {"referenceNumber": "EL-3K9P2QW7ZT4M8N1", "status": "DELIVERED", "previousStatus": "PICKED_UP"}}),
        ("04-sandbox-order-new.json", {"event": "order.new", "timestamp": "2026-04-04T16:00:00.000Z", "sandbox": True,
         "data": {"referenceNumber": "EL-SANDBOX0000001", "status": "NEW", "totalAmount": 1000,
                  "customerPhone": "+22242000000", "customerName": "Test Customer"}}),
        ("05-stock-out.json", {"event": "product.stock_out", "timestamp": "2026-04-04T16:05:00.000Z", "sandbox": False,
         "data": {"productId": "6612f1a2b3c4d5e6f7890123", "externalId": "THIEB-001", "name": "Thiéboudienne Royale",
                  "quantity": 0, "shopId": "6612f..."}}),
    ]
    for name, payload in steps:
        body = compact(payload)
        write("elebne", name, payload["timestamp"], {"Content-Type": "application/json", "X-Webhook-Signature": hex_hmac(body)}, body)


def storefront():
    steps = [
        ("01-paid.json", "paid", "completed", "not_fulfilled", "2026-03-02T10:16:30+01:00", "2026-03-02T09:16:31.000Z"),
        ("02-complete.json", "complete", "completed", "fulfilled", "2026-03-03T17:45:00+01:00", "2026-03-03T16:45:01.000Z"),
        ("03-refunded.json", "refunded", "refunded", "fulfilled", "2026-03-05T11:00:00+01:00", "2026-03-05T10:00:02.000Z"),
    ]
    for name, status, payment, fulfilment, updated, received in steps:
        body = compact({
            "event": "order.updated", "id": "100235", "status": status, "payment_status": payment,
            "fulfillment_status": fulfilment, "total": "219.00", "currency": "MAD",
            "created_at": "2026-03-02T10:15:00+01:00", "updated_at": updated,
            "customer": {"name": "Youssef Amrani", "phone": "+212 6 12 34 56 78", "locale": "en"},
            "shipping_address": {"city": "Fès", "address": "Avenue Hassan II, 40"},
            "items": [{"name": "Tajine en terre cuite", "sku": "TAJ-30", "quantity": 1, "price": "219.00"}],
        })
        write("storefront", name, received, {"Content-Type": "application/json", "X-Api-Key": STOREFRONT_KEY}, body)


def souk_express():
    """The README's "Your own provider": base64 HMAC-SHA256 of the body in X-Souk-Signature."""
    body = compact({
        "topic": "order.state_changed", "sent_at": "2026-06-02T10:24:00+01:00",
        "order": {"no": "SX-1042", "state": "shipped", "previous_state": "packed", "total": "249.00",
                  "currency": "MAD", "track": "https://souk.example/t/SX-1042",
                  "lines": [{"title": "Huile d'argan 250 ml", "qty": 1, "unit_price": "249.00"}]},
        "buyer": {"first_name": "Nadia", "mobile": "0612345678", "city": "Agadir", "lang": "fr"},
    })
    folder = ROOT.parent / "docs" / "examples" / "souk-express" / "samples" / "souk-express"
    folder.mkdir(parents=True, exist_ok=True)
    envelope = {"provider": "souk-express", "received_at": "2026-06-02T09:24:01.000Z",
                "headers": {"Content-Type": "application/json", "X-Souk-Signature": b64_hmac(body)}, "body": body}
    (folder / "order-shipped.json").write_text(json.dumps(envelope, ensure_ascii=False) + "\n", encoding="utf-8")


for provider in ["cod-fulfillment", "wakilni", "armada", "elebne", "storefront"]:
    shutil.rmtree(ROOT / provider / "sequence", ignore_errors=True)
cod(); wakilni(); armada(); elebne(); storefront(); souk_express()
