import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A provider on a loopback port, written directly on NIO so that it can do what Hummingbird
/// will not: take a whole request and then close the connection without a word, or never answer.
/// It counts accepted connections and complete requests, which is what a provider would bill.
final class CountingServer: Sendable {
    enum Answer: Sendable {
        /// 201 with a small JSON body, connection kept alive.
        case created
        /// Close the connection once the request is in, without answering.
        case drop
        /// Keep the connection open and never answer.
        case silence
    }

    let counts: Counts
    let channel: any Channel
    var port: Int { channel.localAddress!.port! }

    /// `answer` is called with the request's number, from 1.
    static func start(answer: @escaping @Sendable (Int) -> Answer = { _ in .created }) async throws -> CountingServer {
        let counts = Counts()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(counts: counts, answer: answer))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return CountingServer(counts: counts, channel: channel)
    }

    private init(counts: Counts, channel: any Channel) {
        self.counts = counts
        self.channel = channel
    }

    func stop() async throws {
        try await channel.close()
    }

    var connectionCount: Int { counts.connections.load(ordering: .sequentiallyConsistent) }
    var requestCount: Int { counts.requests.load(ordering: .sequentiallyConsistent) }

    final class Counts: Sendable {
        let connections = Atomic(0)
        let requests = Atomic(0)
    }

    final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let counts: Counts
        let answer: @Sendable (Int) -> Answer

        init(counts: Counts, answer: @escaping @Sendable (Int) -> Answer) {
            self.counts = counts
            self.answer = answer
        }

        func channelActive(context: ChannelHandlerContext) {
            counts.connections.add(1, ordering: .sequentiallyConsistent)
            context.fireChannelActive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .end = unwrapInboundIn(data) else { return }
            switch answer(counts.requests.add(1, ordering: .sequentiallyConsistent).newValue) {
            case .created:
                let body = ByteBuffer(string: #"{"sid":"SM1","status":"queued"}"#)
                var headers = HTTPHeaders()
                headers.add(name: "Content-Type", value: "application/json")
                headers.add(name: "Content-Length", value: "\(body.readableBytes)")
                context.write(wrapOutboundOut(.head(.init(version: .http1_1, status: .created, headers: headers))))
                    .whenComplete { _ in }
                context.write(wrapOutboundOut(.body(.byteBuffer(body)))).whenComplete { _ in }
                context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in }
            case .drop:
                context.close(promise: nil)
            case .silence:
                break
            }
        }
    }
}
