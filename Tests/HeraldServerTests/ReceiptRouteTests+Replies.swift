import Foundation
import HTTPTypes
import HeraldCore
import HeraldServer
import HeraldStore
import HeraldTestSupport
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// Customers' replies on the receipts routes, as Meta and Twilio post them.
extension ReceiptRouteTests {
    @Test func aWhatsAppReplyInArabicOptsTheSenderOutAndStartLiftsIt() async throws {
        try await withServer { client, store in
            func replies(_ body: String, id: String, at timestamp: Int) -> String {
                """
                {"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{
                "messaging_product":"whatsapp","metadata":{"phone_number_id":"1"},
                "contacts":[{"profile":{"name":"Karim"},"wa_id":"212661234567"}],
                "messages":[{"from":"212661234567","id":"\(id)","timestamp":"\(timestamp)","type":"text",
                "text":{"body":"\(body)"}}]}}]}]}
                """
            }
            let stop = try await metaPost(client, body: replies(" توقف ", id: "wamid.R1", at: 1_764_400_000))
            #expect(stop.0 == .ok)
            let entry = try #require(try await store.suppression(for: "+212661234567", channel: "sms"))
            #expect(entry.source == .reply)
            #expect(entry.scope == .allChannels)
            // Meta redelivers the STOP after the customer's START: a duplicate, the START holds.
            #expect(try await metaPost(client, body: replies("Start", id: "wamid.R2", at: 1_764_400_060)).0 == .ok)
            let again = try await metaPost(client, body: replies(" توقف ", id: "wamid.R1", at: 1_764_400_000))
            #expect(again.1 == #"{"status":"duplicate"}"#)
            #expect(try await store.suppression(for: "+212661234567", channel: "sms") == nil)
            let listed = try await store.replies(sender: "+212661234567", limit: 10)
            #expect(listed.map(\.optAction) == ["opt-in", "opt-out"])
        }
    }

    @Test func aTwilioReplyThatIsNoKeywordIsKeptAndChangesNothing() async throws {
        try await withServer { client, store in
            let fields = [
                ReceiptField("MessageSid", "SMin1"), ReceiptField("From", "+212661234567"),
                ReceiptField("To", "+212500000000"), ReceiptField("Body", "Stop calling me at night please"),
            ]
            let (status, _) = try await twilioPost(client, query: "", fields: fields)
            #expect(status == .ok)
            #expect(try await store.suppressions(numbers: nil).isEmpty)
            #expect(try await store.replies(sender: nil, limit: 10).map(\.body) == ["Stop calling me at night please"])
        }
    }
}
