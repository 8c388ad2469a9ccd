import Foundation
import Hummingbird
import Logging

/// The ceiling the intake benchmark compares against: a Hummingbird route that reads the whole
/// body and answers 200, with nothing else (no verification, no parsing, no storage).
@main
struct BareRoute {
    static func main() async throws {
        let arguments = CommandLine.arguments
        let port = arguments.count > 1 ? Int(arguments[1]) ?? 8081 : 8081
        let router = Router()
        router.post("webhooks/:provider") { request, _ -> Response in
            var request = request
            _ = try await request.collectBody(upTo: 1 << 20)
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: "{\"status\":\"accepted\"}")))
        }
        var logger = Logger(label: "bare-route")
        logger.logLevel = .warning
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: logger)
        try await app.runService()
    }
}
