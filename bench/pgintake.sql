-- bench/pgintake's pgbench script: one cod-fulfillment webhook as Herald's PostgreSQL intake
-- commits it for a new order (PostgresStore.lockOrders, .insert, then the notice that wakes the other
-- instances: the statements and values that a log_statement=all trace of `herald serve` shows for
-- one of bench/gen_payloads.py's webhooks).
-- pgbench runs one webhook per transaction; Herald puts the webhooks that arrive together in one.
-- A random reference per transaction: a new event and a new order each time, as in the HTTP load.
\set n random(1, 1000000000000)
BEGIN;
SELECT pg_advisory_xact_lock(1330791506, h)
FROM (SELECT DISTINCT hashtext(k) AS h
      FROM unnest(ARRAY['cod-fulfillment' || chr(31) || 'PGBENCH-' || :n]) AS k ORDER BY h) AS locks;
INSERT INTO events (provider, dedupe_key, delivery_id, received_at, remote_address, headers, body,
                    event, order_reference, status, previous_status, occurred_at, parse_error, field_problems)
VALUES ('cod-fulfillment', 'PGBENCH-' || :n || '|delivered', NULL, extract(epoch FROM clock_timestamp()), '127.0.0.1',
        '[["Host","127.0.0.1:8080"],["Content-Type","application/json"],["X-Webhook-Signature","0000000000000000000000000000000000000000000000000000000000000000"],["Content-Length","607"]]',
        convert_to('{"event":"order.status_updated","timestamp":"2026-05-09T12:00:00+02:00","order":{"reference":"PGBENCH-' || :n || '","old_status":"out_for_delivery","new_status":"delivered","amount":1799,"currency":"MAD","tracking_number":"F-CSA6SFJ6EMY","delivery_notes":"Call before delivery","created_at":"2026-05-08T12:25:44+01:00"},"customer":{"name":"Karim Mansouri","phone":"+212661234567","city":"Casablanca","address":"123 Bd Mohammed V"},"product":{"name":"Argivit Classic Tablets","sku":"MA-ArgivitClassic"},"items":[{"product_name":"Argivit Classic Tablets","sku":"MA-ArgivitClassic","quantity":1,"price":1799}]}', 'UTF8'),
        'order.status_updated', 'PGBENCH-' || :n, 'delivered', 'out_for_delivery', 1778320800, NULL, NULL)
ON CONFLICT (provider, dedupe_key) DO UPDATE SET deliveries = events.deliveries + 1
RETURNING id, deliveries \gset
SELECT * FROM orders WHERE provider = 'cod-fulfillment' AND reference = 'PGBENCH-' || :n;
INSERT INTO orders (provider, reference, status, occurred_at, event_id, updated_at, remembered)
VALUES ('cod-fulfillment', 'PGBENCH-' || :n, 'delivered', 1778320800, :id, extract(epoch FROM clock_timestamp()),
        '{"customer.name":{"value":"Karim Mansouri","from":"stored event '
        || :id || '","event":"order.status_updated"},"customer.phone":{"value":"+212661234567","from":"stored event '
        || :id || '","event":"order.status_updated"},"customer.city":{"value":"Casablanca","from":"stored event '
        || :id || '","event":"order.status_updated"},"customer.address":{"value":"123 Bd Mohammed V","from":"stored event '
        || :id || '","event":"order.status_updated"},"order.amount":{"value":{"value":1799,"unit":"major"},"from":"stored event '
        || :id || '","event":"order.status_updated"},"order.currency":{"value":"MAD","from":"stored event '
        || :id || '","event":"order.status_updated"},"order.tracking_number":{"value":"F-CSA6SFJ6EMY","from":"stored event '
        || :id || '","event":"order.status_updated"},"items":{"value":[{"name":"Argivit Classic Tablets","sku":"MA-ArgivitClassic","quantity":1,"price":1799}],"from":"stored event '
        || :id || '","event":"order.status_updated"}}')
ON CONFLICT (provider, reference) DO UPDATE SET
    status = excluded.status, occurred_at = excluded.occurred_at,
    event_id = excluded.event_id, updated_at = excluded.updated_at, remembered = excluded.remembered;
SELECT pg_notify('herald', 'events');
END;
