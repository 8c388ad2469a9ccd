import Foundation
import Synchronization

/// The `herald` executable built next to this test bundle, run as an operator would run it.
final class HeraldProcess: Sendable {
    static var executable: URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("herald")
    }

    let process: Process
    private final class Output: Sendable {
        let value = Mutex<(stdout: Data, stderr: Data)>((Data(), Data()))
        /// Signalled by each reader at the end of its pipe.
        let finished = DispatchSemaphore(value: 0)
    }

    private let output = Output()

    init(_ arguments: [String], environment: [String: String] = [:]) throws {
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { $1 }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        self.process = process
        try process.run()
        // Each pipe read by a thread of its own with blocking reads until the end of the pipe, not
        // through `readabilityHandler`: its dispatch read source, cancelled while the pipe is
        // closed, crashed the test process once in libdispatch's event loop (SIGSEGV in
        // `_dispatch_event_loop_drain`) with many processes running at once.
        for (pipe, isError) in [(out, false), (err, true)] {
            let handle = pipe.fileHandleForReading
            let output = self.output
            let reader = Thread {
                while true {
                    let data = handle.availableData
                    if data.isEmpty { break }
                    output.value.withLock { isError ? $0.stderr.append(data) : $0.stdout.append(data) }
                }
                output.finished.signal()
            }
            reader.start()
        }
    }

    var stdout: String { output.value.withLock { String(decoding: $0.stdout, as: UTF8.self) } }
    var stderr: String { output.value.withLock { String(decoding: $0.stderr, as: UTF8.self) } }

    /// Waits for the process to end (up to `seconds`) and returns its exit status, nil on timeout.
    func wait(seconds: Double = 30) async -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning {
            if Date() > deadline { return nil }
            try? await Task.sleep(for: .milliseconds(20))
        }
        // Whatever it wrote last: both readers reach the end of their pipes (a child it started and
        // left running could hold them open: then not more than 5 s).
        let drained = Date().addingTimeInterval(5)
        for _ in 0..<2 {
            while output.finished.wait(timeout: .now()) == .timedOut, Date() < drained {
                try? await Task.sleep(for: .milliseconds(5))
            }
        }
        return process.terminationStatus
    }

    /// Waits until standard error contains `text` (up to `seconds`); returns false on timeout or exit.
    func waitForLog(_ text: String, seconds: Double = 30) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if stderr.contains(text) { return true }
            if !process.isRunning { return stderr.contains(text) }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    func terminate() {
        if process.isRunning { process.terminate() }
    }

    /// Runs a command to its end and returns (status, stdout, stderr).
    static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> (Int32?, String, String) {
        let process = try HeraldProcess(arguments, environment: environment)
        let status = await process.wait()
        process.terminate()
        return (status, process.stdout, process.stderr)
    }
}
