/// The built-in provider presets, written with the same keys a rules.yaml provider uses, so a
/// preset is only a starting point: any key set in rules.yaml overrides the preset's.
///
/// Sources are the providers' own webhook documentation, summed up in docs/providers.md. Where a
/// document leaves something out, the choice is marked "assumed" and can be overridden per provider.
public enum Presets {
    public static let names = ["cod-fulfillment", "wakilni", "armada", "elebne", "storefront"]

    static let yaml: [String: String] = [
        "cod-fulfillment": """
            verify: { scheme: hmac-sha256, header: X-Webhook-Signature, encoding: hex }
            fields:
              event: event
              occurred_at: timestamp
              order.reference: order.reference
              order.status: order.new_status
              order.previous_status: order.old_status
              order.amount: order.amount
              order.currency: order.currency
              order.tracking_number: order.tracking_number
              order.delivery_notes: order.delivery_notes
              order.created_at: order.created_at
              customer.name: customer.name
              customer.phone: customer.phone
              customer.city: customer.city
              customer.address: customer.address
            items: { path: items, name: product_name, sku: sku, quantity: quantity, price: price }
            dedupe: [order.reference, order.new_status]
            required: [order.reference, order.status]
            amount_unit: major
            country: MA
            timezone: Africa/Casablanca
            statuses: [pending, picked_up, preparing, prepared, out_for_delivery, delivered, returned, return_received, returned_to_stock]
            transitions:
              pending: [picked_up]
              picked_up: [preparing]
              preparing: [prepared]
              prepared: [out_for_delivery]
              out_for_delivery: [delivered, returned]
              returned: [delivered, return_received]
              return_received: [returned_to_stock]
            status_groups:
              pending: created
              picked_up: picked_up
              preparing: preparing
              prepared: ready
              out_for_delivery: out_for_delivery
              delivered: delivered
              returned: failed
              return_received: returned
              returned_to_stock: returned
            """,
        "wakilni": """
            verify: { scheme: hmac-sha256, header: x-webhook-signature, encoding: base64 }
            fields:
              event: event
              occurred_at: timestamp
              order.reference: data.order_id
              order.status: data.new_status
              order.previous_status: data.previous_status
              order.tracking_number: data.waybill
              order.created_at: data.created_at
            dedupe: [event_id]
            delivery_id: header:x-webhook-delivery-id
            required: [event, order.reference]
            country: LB
            timezone: Asia/Beirut
            statuses: [Pending, Confirmed, Declined, Assigned, Processed, Canceled, Postponed, Completed, Completed Rejected, Closed Failed, Pending Cancelation, Failed]
            status_groups:
              Pending: created
              Confirmed: confirmed
              Declined: cancelled
              Assigned: out_for_delivery
              Processed: ready
              Canceled: cancelled
              Postponed: postponed
              Completed: delivered
              Completed Rejected: failed
              Closed Failed: failed
              Pending Cancelation: cancelled
              Failed: failed
            """,
        // The seed documents no signature: the app id header must match, optionally with an IP
        // allow-list and a secret path token. Its status table did not survive in the seed; the
        // statuses and transitions below are assumed from Armada's public API and can be overridden.
        "armada": """
            verify: { scheme: header-token, header: x-armada-app-id }
            fields:
              event: =order.updated
              order.reference: code
              order.status: status
              order.amount: amount
              order.currency: currency
              order.created_at: created_at
              order.tracking_url: logistics.tracking_url
              customer.name: customer.name
              customer.phone: customer.phone
              customer.address: customer.address
              driver.name: driver.name
              driver.phone: driver.phone
            dedupe: [header:x-armada-webhook-id, code, status]
            delivery_id: header:x-armada-webhook-id
            required: [order.reference, order.status]
            amount_unit: major
            currency: KWD
            country: KW
            timezone: Asia/Kuwait
            statuses: [pending, dispatched, en_route, arrived, delivered, completed, canceled, failed]
            transitions:
              pending: [dispatched, canceled, failed]
              dispatched: [en_route, arrived, delivered, completed, canceled, failed]
              en_route: [arrived, delivered, completed, canceled, failed]
              arrived: [delivered, completed, canceled, failed]
              delivered: [completed]
            status_groups:
              pending: created
              dispatched: picked_up
              en_route: out_for_delivery
              arrived: out_for_delivery
              delivered: delivered
              completed: delivered
              canceled: cancelled
              failed: failed
            """,
        // Header name assumed (configurable); amounts assumed in minor units of MRU
        // (a 50000 price is 500.00 MRU).
        "elebne": """
            verify: { scheme: hmac-sha256, header: X-Webhook-Signature, encoding: hex }
            fields:
              event: event
              occurred_at: timestamp
              sandbox: sandbox
              order.reference: data.referenceNumber
              order.status: data.status
              order.previous_status: data.previousStatus
              order.amount: data.totalAmount
              order.cancellation_reason: data.cancellationReason
              order.created_at: data.createdAt
              customer.name: data.customerName
              customer.phone: data.customerPhone
            items: { path: data.items, name: name, sku: productId, quantity: quantity, price: price }
            dedupe: [event, data.referenceNumber, data.status, data.totalAmountRefunded, data.newTotalAmount, data.productId, data.quantity]
            required: [event]
            amount_unit: minor
            currency: MRU
            country: MR
            timezone: Africa/Nouakchott
            statuses: [NEW, PREPARING, READY, PICKED_UP, DELIVERED, CANCELLED, REFUNDED]
            transitions:
              NEW: [PREPARING, CANCELLED]
              PREPARING: [READY, CANCELLED]
              READY: [PICKED_UP, DELIVERED, CANCELLED]
              PICKED_UP: [DELIVERED, CANCELLED]
              DELIVERED: [REFUNDED]
              CANCELLED: [REFUNDED]
            status_groups:
              NEW: created
              PREPARING: preparing
              READY: ready
              PICKED_UP: out_for_delivery
              DELIVERED: delivered
              CANCELLED: cancelled
              REFUNDED: refunded
            """,
        // The seed gives statuses and retry behaviour but not the payload (its Order.json example
        // is not in the seed); the field paths are assumed and meant to be overridden.
        "storefront": """
            verify: { scheme: header-token, header: X-Api-Key }
            fields:
              event: event
              occurred_at: updated_at
              order.reference: id
              order.status: status
              order.amount: total
              order.currency: currency
              order.created_at: created_at
              customer.name: customer.name
              customer.phone: customer.phone
              customer.locale: customer.locale
              customer.city: shipping_address.city
              customer.address: shipping_address.address
            items: { path: items, name: name, sku: sku, quantity: quantity, price: price }
            dedupe: [id, status, payment_status, fulfillment_status, updated_at]
            required: [order.reference, order.status]
            amount_unit: major
            statuses: [pending, voided, timeouted, cancelled, failed, refunded, paid, complete]
            status_groups:
              pending: created
              paid: confirmed
              complete: delivered
              cancelled: cancelled
              voided: cancelled
              timeouted: cancelled
              failed: failed
              refunded: refunded
            """,
    ]
}
