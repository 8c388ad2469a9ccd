import Foundation
import HeraldDispatch
import Synchronization

/// An `HTTPTransport` twin that records every request and answers from a script, in order:
/// a response, or a transport error (a lost answer is `.unknownOutcome`).
public final class ScriptedTransport: HTTPTransport {
    public enum Step: Sendable {
        case answer(IncomingResponse)
        case error(TransportError)
    }

    private let state = Mutex<(requests: [OutgoingRequest], script: [Step])>(([], []))

    public init(_ script: [Step] = []) { state.withLock { $0.script = script } }

    public var requests: [OutgoingRequest] { state.withLock { $0.requests } }

    public func then(_ steps: Step...) { state.withLock { $0.script += steps } }

    /// A JSON answer.
    public static func json(_ status: Int, _ text: String) -> Step {
        .answer(IncomingResponse(status: status, headers: ["Content-Type": "application/json"], body: Array(text.utf8)))
    }

    public func send(_ request: OutgoingRequest) async throws(TransportError) -> IncomingResponse {
        let step = state.withLock { state -> Step? in
            state.requests.append(request)
            return state.script.isEmpty ? nil : state.script.removeFirst()
        }
        switch step {
        case .answer(let response)?: return response
        case .error(let error)?: throw error
        case nil: throw .notSent("the script has no answer for \(request.method) \(request.url.path)")
        }
    }
}
