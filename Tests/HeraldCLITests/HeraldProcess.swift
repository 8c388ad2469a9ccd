import Foundation
import Synchronization

/// The `herald` executable built next to this test bundle, run as an operator would run it.
final class HeraldProcess: Sendable {
    static var executable: URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("herald")
    }

    let process: Process
    private let pipes: (out: Pipe, err: Pipe)
    private final class Output: Sendable {
        let value = Mutex<(stdout: Data, stderr: Data)>((Data(), Data()))
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
        self.pipes = (out, err)
        out.fileHandleForReading.readabilityHandler = { [output] handle in
            let data = handle.availableData
            output.value.withLock { $0.stdout.append(data) }
        }
        err.fileHandleForReading.readabilityHandler = { [output] handle in
            let data = handle.availableData
            output.value.withLock { $0.stderr.append(data) }
        }
        try process.run()
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
        // Collect whatever the handlers have not delivered yet.
        for (pipe, isError) in [(pipes.out, false), (pipes.err, true)] {
            pipe.fileHandleForReading.readabilityHandler = nil
            let rest = pipe.fileHandleForReading.readDataToEndOfFile()
            output.value.withLock { isError ? $0.stderr.append(rest) : $0.stdout.append(rest) }
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
