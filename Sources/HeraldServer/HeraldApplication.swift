import Foundation
import HeraldCore
import HeraldStore
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle

/// How `herald serve` listens.
public struct ServerConfiguration: Sendable {
    public var host: String = "127.0.0.1"
    public var port: Int = 8080
    /// Largest webhook body accepted; larger ones get 413.
    public var maxBodySize: Int = 1 << 20
    /// A connection that sends nothing for this long is closed.
    public var idleTimeout: TimeAmount = .seconds(30)
    /// After SIGTERM or SIGINT, how long in-flight work may take to finish before it is cancelled.
    public var drainTime: Duration = .seconds(10)
    /// The reverse proxies whose `X-Forwarded-For` names the client for `allow_ips` and logs.
    public var trustedProxies = TrustedProxies()
    /// The address providers reach Herald at (`--public-url`, `HERALD_PUBLIC_URL`): Twilio signs
    /// receipts over it, so without it Twilio receipts are answered 503.
    public var publicURL: String?

    public init(host: String = "127.0.0.1", port: Int = 8080, maxBodySize: Int = 1 << 20) {
        self.host = host
        self.port = port
        self.maxBodySize = maxBodySize
    }
}

/// The routes of DESIGN.md's HTTP table, on any context built from a channel.
public func buildRouter(intake: WebhookIntake, receipts: ReceiptIntake? = nil) -> Router<HeraldRequestContext> {
    let router = Router(context: HeraldRequestContext.self)
    if let receipts {
        router.post("receipts/:channel") { request, context in
            await receipts.post(channel: context.parameters.get("channel") ?? "", request: request, context: context)
        }
        router.get("receipts/:channel") { request, context in
            receipts.handshake(channel: context.parameters.get("channel") ?? "", request: request, context: context)
        }
    }
    router.post("webhooks/:provider") { request, context in
        let provider = context.parameters.get("provider") ?? ""
        return await intake.handle(provider: provider, pathToken: nil, request: request, context: context)
    }
    router.post("webhooks/:provider/:token") { request, context in
        let provider = context.parameters.get("provider") ?? ""
        let token = context.parameters.get("token")
        return await intake.handle(provider: provider, pathToken: token, request: request, context: context)
    }
    // Any other method on a webhook route: 405 with `Allow: POST`, as HTTP says, not an empty 404.
    for path in ["webhooks/:provider", "webhooks/:provider/:token"] {
        for method: HTTPRequest.Method in [.get, .head, .put, .patch, .delete, .options] {
            router.on(RouterPath(path), method: method) { _, _ in
                var response = Response.json(.methodNotAllowed, status: "error", reason: "only POST is accepted here")
                response.headers[.allow] = "POST"
                return response
            }
        }
    }
    router.addMetrics(store: intake.store)
    router.get("healthz") { _, context in
        do {
            try await intake.store.ping()
            return Response.json(.ok, status: "ok")
        } catch {
            let connecting = (error as? StoreError) == .notConnected
            // While connecting, `StoreConnection` logs the outage (once a minute), not every probe.
            if !connecting {
                context.logger.error("health check: store unavailable", metadata: ["error": "\(error)"])
            }
            let reason = connecting ? "database not connected yet" : "store unavailable"
            var response = Response.json(.serviceUnavailable, status: "unavailable", reason: reason)
            response.headers[.retryAfter] = "\(WebhookIntake.retryAfterSeconds)"
            return response
        }
    }
    return router
}

/// Builds the Hummingbird application of `herald serve`: the routes, plus the store as a
/// service that is closed after the server has finished its in-flight requests.
public func buildApplication(
    configuration: ServerConfiguration, ruleSet: RuleSet, store: any Store, logger: Logger,
    processor: EventProcessor? = nil, dispatcher: Dispatcher? = nil, transport: (any Service)? = nil,
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    var intake = WebhookIntake(providers: ruleSet.providers, store: store, maxBodySize: configuration.maxBodySize)
    intake.trustedProxies = configuration.trustedProxies
    var processor = processor
    if let processorWakeup = processor?.wakeup { intake.onAccepted = { processorWakeup.signal() } }
    processor?.messagesQueued = dispatcher?.wakeup
    // Other instances on a shared database: their webhooks and queued messages wake these loops too.
    let wakeups = (events: processor?.wakeup, messages: dispatcher?.wakeup)
    store.observeChanges { change in
        switch change {
        case .eventsRecorded: wakeups.events?.signal()
        case .messagesQueued: wakeups.messages?.signal()
        }
    }
    let receipts = ReceiptIntake(
        channels: ruleSet.channels, store: store, maxBodySize: configuration.maxBodySize,
        publicURL: configuration.publicURL, fallbacks: ReceiptFallbacks(ruleSet: ruleSet),
        messagesQueued: dispatcher?.wakeup)
    let router = buildRouter(intake: intake, receipts: receipts)
    var http1 = HTTP1Channel.Configuration()
    http1.idleTimeout = configuration.idleTimeout
    return Application(
        router: router,
        server: .http1(configuration: http1),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "herald"),
        // Shutdown runs in reverse: the server finishes its requests, the dispatcher its sends,
        // the processor its event, then the HTTP client closes its connections, then the store
        // closes, then its own services stop (group commit and checkpoints: intake's writes
        // still commit while the server drains).
        services: store.services + [StoreService(store: store, logger: logger)] + (transport.map { [$0] } ?? [])
            + (processor.map { [$0.service] } ?? []) + (dispatcher.map { [$0.service] } ?? []),
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
        logger: logger)
}

/// Keeps the store open while the server runs and closes it cleanly on shutdown.
///
/// The server is the last service in Hummingbird's group, so it stops first: in-flight
/// requests finish and commit before the store closes.
struct StoreService: Service {
    let store: any Store
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        do {
            try await store.close()
            logger.info("store closed")
        } catch {
            logger.error("store did not close cleanly", metadata: ["error": "\(error)"])
        }
    }
}
