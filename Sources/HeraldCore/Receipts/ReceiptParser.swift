import Foundation

/// A correctly signed receipt whose body Herald could not read; kept with this reason.
public struct ReceiptParseError: Error, Equatable, Sendable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// Reads Twilio's form posts and Meta's webhook JSON into `Receipt`s.
public enum ReceiptParser {
    /// A Twilio status callback (`MessageSid`, `MessageStatus`, `ErrorCode`) or inbound message
    /// (`MessageSid`, `From`, `Body`), both posted to the same route. `key` is the `key` query
    /// parameter of the URL Twilio called (Herald puts the idempotency key there).
    public static func twilio(fields: [ReceiptField], key: String?) throws(ReceiptParseError) -> Receipt {
        func field(_ name: String) -> String? {
            fields.last(where: { $0.name == name }).map(\.value).flatMap { $0.isEmpty ? nil : $0 }
        }
        guard let sid = field("MessageSid") ?? field("SmsSid") else {
            throw ReceiptParseError("no MessageSid in the form")
        }
        // An inbound message carries no MessageStatus, or `received` (Twilio's status of an inbound).
        let status = field("MessageStatus") ?? field("SmsStatus")
        if status == nil || status == "received" {
            guard let from = field("From") else { throw ReceiptParseError("an inbound message without From") }
            let reply = Reply(
                providerMessageID: sid, from: e164(from), body: fields.last { $0.name == "Body" }?.value ?? "")
            return Receipt(dedupeKey: sid, content: .reply(reply))
        }
        guard let status else { throw ReceiptParseError("no MessageStatus in the form") }
        let report = StatusReport(
            providerMessageID: sid, providerStatus: status, state: twilioState(status), errorCode: field("ErrorCode"),
            idempotencyKey: key.flatMap { $0.isEmpty ? nil : $0 })
        return Receipt(dedupeKey: sid + " " + status, content: .status(report))
    }

    static func twilioState(_ status: String) -> DeliveryState? {
        switch status {
        case "accepted", "scheduled", "queued", "sending", "sent": .sent
        case "delivered": .delivered
        case "read": .read
        case "undelivered", "failed": .undelivered
        default: nil
        }
    }

    /// A WhatsApp Cloud webhook: `entry[].changes[].value.statuses[]` and `.messages[]`.
    public static func whatsAppCloud(body: some Collection<UInt8>) throws(ReceiptParseError) -> [Receipt] {
        let json: JSONValue
        do { json = try JSONParser.parse(body) } catch { throw ReceiptParseError("not JSON: \(error.reason)") }
        guard let entries = json["entry"]?.arrayValue else { throw ReceiptParseError("no entry[] in the body") }
        var receipts: [Receipt] = []
        for entry in entries {
            for change in entry["changes"]?.arrayValue ?? [] {
                guard let value = change["value"] else { continue }
                for status in value["statuses"]?.arrayValue ?? [] {
                    receipts.append(try metaStatus(status))
                }
                for message in value["messages"]?.arrayValue ?? [] {
                    if let reply = try metaMessage(message) { receipts.append(reply) }
                }
            }
        }
        return receipts
    }

    private static func metaStatus(_ status: JSONValue) throws(ReceiptParseError) -> Receipt {
        guard let id = status["id"]?.scalarText, !id.isEmpty, let written = status["status"]?.scalarText else {
            throw ReceiptParseError("a status without id or status")
        }
        let state: DeliveryState? =
            switch written {
            case "sent": .sent
            case "delivered": .delivered
            case "read": .read
            case "failed": .undelivered
            default: nil
            }
        let error = status["errors"]?.arrayValue?.first
        let report = StatusReport(
            providerMessageID: id, providerStatus: written, state: state, errorCode: error?["code"]?.scalarText,
            errorTitle: error?["title"]?.scalarText,
            idempotencyKey: status["biz_opaque_callback_data"]?.scalarText.flatMap { $0.isEmpty ? nil : $0 })
        return Receipt(dedupeKey: id + " " + written, content: .status(report), occurredAt: try timestamp(status))
    }

    /// A customer's message; only text has a body worth keeping, other types keep an empty one.
    private static func metaMessage(_ message: JSONValue) throws(ReceiptParseError) -> Receipt? {
        guard let id = message["id"]?.scalarText, !id.isEmpty, let from = message["from"]?.scalarText else {
            throw ReceiptParseError("a message without id or from")
        }
        let body = message["text"]?["body"]?.scalarText ?? ""
        let reply = Reply(providerMessageID: id, from: e164(from), body: body)
        return Receipt(dedupeKey: id, content: .reply(reply), occurredAt: try timestamp(message))
    }

    /// Meta's `timestamp`: Unix seconds as a string.
    private static func timestamp(_ value: JSONValue) throws(ReceiptParseError) -> Date? {
        guard let text = value["timestamp"]?.scalarText else { return nil }
        guard let seconds = Int64(text) else { throw ReceiptParseError("timestamp '\(text)' is not Unix seconds") }
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }

    /// `whatsapp:+212…` (Twilio) and `212…` (Meta) as `+212…`.
    static func e164(_ address: String) -> String {
        var number = address.trimmingCharacters(in: .whitespaces)
        if number.hasPrefix("whatsapp:") { number.removeFirst("whatsapp:".count) }
        if !number.hasPrefix("+"), !number.isEmpty, number.allSatisfy(\.isASCII), number.allSatisfy(\.isNumber) {
            number = "+" + number
        }
        return number
    }
}
