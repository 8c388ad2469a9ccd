import ArgumentParser

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Standard output written in large chunks: commands that print a line per input (`herald
/// dry-run` over a captured month) append to one buffer and write it out once it holds
/// `chunkSize` bytes.
///
/// Measured: one `FileHandle.write` per line of `herald dry-run --format json` cost a system
/// call and a `Data` per input; one write per megabyte costs neither.
struct OutputBuffer {
    static let chunkSize = 1 << 20

    private(set) var bytes: [UInt8] = []
    let descriptor: Int32

    init(descriptor: Int32 = STDOUT_FILENO) {
        self.descriptor = descriptor
        bytes.reserveCapacity(Self.chunkSize + (64 << 10))
    }

    mutating func append(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    /// Lets `body` append bytes directly (no intermediate string).
    mutating func append(_ body: (inout [UInt8]) -> Void) {
        body(&bytes)
    }

    /// Writes the buffer out when it holds a chunk or more.
    mutating func flushIfFull() throws {
        if bytes.count >= Self.chunkSize { try flush() }
    }

    /// Writes everything buffered. Exits 1 when standard output is closed or full.
    mutating func flush() throws {
        var written = 0
        let total = bytes.count
        while written < total {
            let result = bytes.withUnsafeBytes { buffer in
                write(descriptor, buffer.baseAddress! + written, total - written)
            }
            if result < 0 {
                if errno == EINTR { continue }
                bytes.removeAll(keepingCapacity: true)
                throw ExitCode(1)
            }
            written += result
        }
        bytes.removeAll(keepingCapacity: true)
    }
}
