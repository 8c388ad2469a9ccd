import Foundation
import HeraldCore

/// What a provider says about a message whose send had no answer.
public enum LookupOutcome: Sendable, Equatable {
    /// The provider has it: the send went out.
    case found(providerID: String)
    /// The provider's list reaches back before the attempt without it: safe to send again.
    case notFound
    /// The lookup itself failed: nothing is known yet, so it is tried again later (never a blind resend).
    case failed(String)
}

/// A channel whose provider can be asked whether a message went out.
public protocol LookingUpChannel: MessageChannel {
    /// Looks for `message`, sent in an attempt that started at `attemptedAt`.
    func lookUp(_ message: ChannelMessage, attemptedAt: Date, transport: any HTTPTransport) async -> LookupOutcome
}

extension TwilioChannel: LookingUpChannel {
    /// How far before the attempt the walk goes, for the clocks of Herald and Twilio disagreeing.
    static let clockSkew: TimeInterval = 60
    /// A walk that reads this many pages without reaching the attempt gives up (and tries later).
    static let maxPages = 20

    /// `ListMessage` filtered by `To` (and `From` when the channel sends from a number), read
    /// newest first page by page (`next_page_uri`) until the messages are older than the attempt;
    /// body and sender are matched here. No `DateSent` filter: a queued message has no send date.
    public func lookUp(_ message: ChannelMessage, attemptedAt: Date, transport: any HTTPTransport) async
        -> LookupOutcome
    {
        let oldest = attemptedAt.addingTimeInterval(-Self.clockSkew)
        var next: OutgoingRequest? = lookupRequest(for: message)
        var pages = 0
        while let request = next {
            pages += 1
            guard pages <= Self.maxPages else {
                return .failed("lookup read \(Self.maxPages) pages without reaching the attempt")
            }
            let response: IncomingResponse
            do {
                response = try await transport.send(request)
            } catch {
                return .failed("lookup: \(error)")
            }
            guard (200..<300).contains(response.status), let json = try? JSONParser.parse(response.body),
                let listed = json["messages"]?.arrayValue
            else {
                return .failed("lookup: twilio HTTP \(response.status)")
            }
            var reachedOlder = false
            for entry in listed {
                if let sid = entry["sid"]?.scalarText, matches(entry, message) { return .found(providerID: sid) }
                if let created = entry["date_created"]?.scalarText.flatMap(Self.rfc2822), created < oldest {
                    reachedOlder = true
                }
            }
            next = nil
            if !reachedOlder, let uri = json["next_page_uri"]?.scalarText, !uri.isEmpty,
                let url = URL(string: uri, relativeTo: baseURL)?.absoluteURL
            {
                next = OutgoingRequest(
                    method: "GET", url: url, headers: ["Authorization": basicAuthorization], body: [])
            }
        }
        return .notFound
    }

    /// The first page: `GET …/Messages.json?To=…[&From=…]&PageSize=50`.
    public func lookupRequest(for message: ChannelMessage) -> OutgoingRequest {
        var components = URLComponents(
            url: baseURL.appendingPathComponent("2010-04-01/Accounts/\(accountSID)/Messages.json"),
            resolvingAgainstBaseURL: false)!
        var query = [URLQueryItem(name: "To", value: address(message.to))]
        if let from { query.append(URLQueryItem(name: "From", value: address(from))) }
        query.append(URLQueryItem(name: "PageSize", value: "50"))
        components.queryItems = query
        // `+` is a space in a query: written as %2B so Twilio reads the E.164 number.
        components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        return OutgoingRequest(
            method: "GET", url: components.url!, headers: ["Authorization": basicAuthorization], body: [])
    }

    /// Same recipient, same sender (the number, or the messaging service), same text.
    func matches(_ entry: JSONValue, _ message: ChannelMessage) -> Bool {
        guard entry["to"]?.scalarText == address(message.to),
            entry["body"]?.scalarText?.trimmingCharacters(in: .whitespacesAndNewlines)
                == message.text.trimmingCharacters(in: .whitespacesAndNewlines)
        else { return false }
        if let from { return entry["from"]?.scalarText == address(from) }
        return entry["messaging_service_sid"]?.scalarText == messagingServiceSID
    }

    /// Twilio's dates: `Wed, 18 Aug 2010 20:01:40 +0000`.
    static func rfc2822(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return formatter.date(from: text)
    }
}
