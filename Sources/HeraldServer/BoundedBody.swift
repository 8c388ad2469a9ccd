import Hummingbird
import NIOCore

/// A request body read up to the route's limit, the one way `/webhooks/…` and `/receipts/…` read
/// theirs: a declared `Content-Length` over the limit is refused before reading, and a chunked
/// body is cut at the limit rather than read to its end.
enum BoundedBody {
    case read(ByteBuffer)
    /// Over the limit; `declared` is the Content-Length when the request gave one.
    case tooLarge(declared: Int?)
    case unreadable(any Error)

    static func collect(_ request: inout Request, upTo limit: Int) async -> BoundedBody {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            return .tooLarge(declared: length)
        }
        do {
            return .read(try await request.collectBody(upTo: limit))
        } catch let error where (error as? HTTPError)?.status == .contentTooLarge || error is NIOTooManyBytesError {
            return .tooLarge(declared: nil)
        } catch {
            return .unreadable(error)
        }
    }

    /// The answers to a body that was not read.
    static func tooLargeResponse(limit: Int) -> Response {
        .json(.contentTooLarge, status: "error", reason: "body larger than \(limit) bytes")
    }

    static let unreadableResponse = Response.json(.badRequest, status: "error", reason: "body could not be read")
}
