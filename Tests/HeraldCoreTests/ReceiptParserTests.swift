import Foundation
import HeraldCore
import Testing

@Suite("Reading receipts")
struct ReceiptParserTests {
    func form(_ text: String) throws -> [ReceiptField] { try FormBody.decode(Array(text.utf8)) }

    @Test func twilioStatusCallbackWithItsKeyAndErrorCode() throws {
        let fields = try form(
            "SmsSid=SM1&SmsStatus=undelivered&MessageStatus=undelivered&To=%2B212612345678&MessageSid=SM1"
                + "&AccountSid=AC1&From=%2B212522000000&ApiVersion=2010-04-01&ErrorCode=30003")
        let receipt = try ReceiptParser.twilio(fields: fields, key: "k-123")
        #expect(receipt.dedupeKey == "SM1 undelivered")
        #expect(receipt.occurredAt == nil)
        #expect(
            receipt.content
                == .status(
                    StatusReport(
                        providerMessageID: "SM1", providerStatus: "undelivered", state: .undelivered,
                        errorCode: "30003",
                        idempotencyKey: "k-123")))
    }

    @Test(
        "each Twilio status maps to what it proves",
        arguments: [
            ("queued", DeliveryState.sent), ("accepted", .sent), ("sending", .sent), ("sent", .sent),
            ("delivered", .delivered), ("read", .read), ("undelivered", .undelivered), ("failed", .undelivered),
        ])
    func twilioStates(status: String, state: DeliveryState) throws {
        let receipt = try ReceiptParser.twilio(fields: form("MessageSid=SM9&MessageStatus=\(status)"), key: nil)
        guard case .status(let report) = receipt.content else { Issue.record("not a status"); return }
        #expect(report.state == state)
        #expect(report.idempotencyKey == nil)
    }

    @Test func twilioStatusHeraldDoesNotKnowIsKeptWithoutAState() throws {
        let receipt = try ReceiptParser.twilio(
            fields: form("MessageSid=SM9&MessageStatus=partially_delivered"), key: "")
        guard case .status(let report) = receipt.content else { Issue.record("not a status"); return }
        #expect(report.state == nil)
        #expect(report.providerStatus == "partially_delivered")
        #expect(report.idempotencyKey == nil)
    }

    @Test func twilioInboundMessageIsAReplyFromAnE164Number() throws {
        let sms = try ReceiptParser.twilio(
            fields: form("MessageSid=SM2&SmsStatus=received&From=%2B212612345678&To=%2B212522000000&Body=+STOP+"),
            key: nil)
        #expect(sms.dedupeKey == "SM2")
        #expect(sms.content == .reply(Reply(providerMessageID: "SM2", from: "+212612345678", body: " STOP ")))
        let whatsapp = try ReceiptParser.twilio(
            fields: form("MessageSid=SM3&From=whatsapp%3A%2B212612345678&Body=%D8%AA%D9%88%D9%82%D9%81"), key: nil)
        #expect(whatsapp.content == .reply(Reply(providerMessageID: "SM3", from: "+212612345678", body: "توقف")))
    }

    @Test func twilioFormWithoutASidDoesNotParse() throws {
        #expect(throws: ReceiptParseError("no MessageSid in the form")) {
            try ReceiptParser.twilio(fields: form("MessageStatus=delivered"), key: nil)
        }
    }

    let metaBody = #"""
        {"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages",
        "value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881",
        "phone_number_id":"106540352242922"},
        "statuses":[
         {"id":"wamid.A","status":"delivered","timestamp":"1764400100","recipient_id":"212612345678",
          "biz_opaque_callback_data":"key-a"},
         {"id":"wamid.B","status":"failed","timestamp":"1764400200","recipient_id":"212612345679",
          "errors":[{"code":131026,"title":"Message undeliverable"}]},
         {"id":"wamid.C","status":"warning","timestamp":"1764400300","recipient_id":"212612345670"}],
        "messages":[{"from":"212612345678","id":"wamid.IN1","timestamp":"1764400400","type":"text",
          "text":{"body":"Arrêt"}},
         {"from":"212612345678","id":"wamid.IN2","timestamp":"1764400500","type":"image","image":{"id":"1"}}]}}]}]}
        """#

    @Test func metaStatusesAndMessagesInOneCallback() throws {
        let receipts = try ReceiptParser.whatsAppCloud(body: Array(metaBody.utf8))
        #expect(
            receipts.map(\.dedupeKey) == [
                "wamid.A delivered", "wamid.B failed", "wamid.C warning", "wamid.IN1", "wamid.IN2",
            ])
        #expect(
            receipts[0]
                == Receipt(
                    dedupeKey: "wamid.A delivered",
                    content: .status(
                        StatusReport(
                            providerMessageID: "wamid.A", providerStatus: "delivered", state: .delivered,
                            idempotencyKey: "key-a")),
                    occurredAt: Date(timeIntervalSince1970: 1_764_400_100)))
        #expect(
            receipts[1].content
                == .status(
                    StatusReport(
                        providerMessageID: "wamid.B", providerStatus: "failed", state: .undelivered,
                        errorCode: "131026",
                        errorTitle: "Message undeliverable")))
        guard case .status(let unknown) = receipts[2].content else { Issue.record("not a status"); return }
        #expect(unknown.state == nil)
        #expect(
            receipts[3].content == .reply(Reply(providerMessageID: "wamid.IN1", from: "+212612345678", body: "Arrêt")))
        #expect(receipts[3].occurredAt == Date(timeIntervalSince1970: 1_764_400_400))
        #expect(receipts[4].content == .reply(Reply(providerMessageID: "wamid.IN2", from: "+212612345678", body: "")))
    }

    @Test func metaBodiesThatDoNotParse() {
        #expect(throws: ReceiptParseError.self) { try ReceiptParser.whatsAppCloud(body: Array("{not json".utf8)) }
        #expect(throws: ReceiptParseError("no entry[] in the body")) {
            try ReceiptParser.whatsAppCloud(body: Array(#"{"object":"page"}"#.utf8))
        }
        let noID = #"{"entry":[{"changes":[{"value":{"statuses":[{"status":"read"}]}}]}]}"#
        #expect(throws: ReceiptParseError("a status without id or status")) {
            try ReceiptParser.whatsAppCloud(body: Array(noID.utf8))
        }
        let badTime =
            #"{"entry":[{"changes":[{"value":{"statuses":[{"id":"w","status":"read","timestamp":"soon"}]}}]}]}"#
        #expect(throws: ReceiptParseError("timestamp 'soon' is not Unix seconds")) {
            try ReceiptParser.whatsAppCloud(body: Array(badTime.utf8))
        }
    }

    @Test func statesNeverMoveBackwardsInTheirOrder() {
        #expect(DeliveryState.sent < .undelivered)
        #expect(DeliveryState.undelivered < .delivered)
        #expect(DeliveryState.delivered < .read)
    }
}
