import Foundation
import HeraldCore
import Synchronization

/// Fills what a provider leaves out from the merchant's API (`enrich:` in rules.yaml), with its
/// own timeout and retries, cached per order so an order's later events cost no request.
public final class Enricher: Sendable {
    public enum Outcome: Sendable, Equatable {
        case enriched([CanonicalField: String])
        case notFound
        case failed(String)
    }

    let transport: any HTTPTransport
    let attempts: Int
    let pause: Duration
    private let cache = Mutex<[String: [CanonicalField: String]]>([:])
    static let cacheLimit = 10_000

    public init(transport: any HTTPTransport, attempts: Int = 3, pause: Duration = .milliseconds(200)) {
        self.transport = transport
        self.attempts = attempts
        self.pause = pause
    }

    /// Fetches the enrichment fields for `event`, from the cache when this order was seen.
    public func fetch(for event: CanonicalEvent, with enrichment: Enrichment) async -> Outcome {
        let key = "\(event.provider)\u{1F}\(event.order.reference ?? "")"
        if let cached = cache.withLock({ $0[key] }) { return .enriched(cached) }
        guard let url = URL(string: event.enrichmentURL(enrichment)) else {
            return .failed("enrich.url is not a valid URL once filled in")
        }
        var headers = enrichment.headers
        headers["Accept"] = "application/json"
        let request = OutgoingRequest(method: "GET", url: url, headers: headers, body: [])
        var lastProblem = ""
        for attempt in 1...attempts {
            do {
                let response = try await transport.send(request)
                if response.status == 404 { return .notFound }
                if (200..<300).contains(response.status), let json = try? JSONParser.parse(response.body) {
                    var values: [CanonicalField: String] = [:]
                    for (field, path) in enrichment.fields {
                        if let text = json.value(at: path)?.scalarText, !text.isEmpty { values[field] = text }
                    }
                    cache.withLock { cache in
                        if cache.count >= Self.cacheLimit { cache.removeAll() }
                        cache[key] = values
                    }
                    return .enriched(values)
                }
                lastProblem = "HTTP \(response.status)"
                if (400..<500).contains(response.status), response.status != 429 { break }
            } catch {
                lastProblem = "\(error)"
            }
            if attempt < attempts { try? await Task.sleep(for: pause) }
        }
        return .failed("enrichment failed: \(lastProblem)")
    }
}
