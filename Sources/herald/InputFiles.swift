import Foundation
import HeraldCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The files a dry-run reads, in order.
enum InputFiles {
    struct File {
        var path: String
        /// As shown in the output: the path as the user wrote it, joined with the relative name.
        var display: String
        /// The name of the folder holding the file (a provider name in samples/<provider>/).
        var folder: String?
    }

    /// The files `paths` name, in order, found as they are read: a folder is listed one
    /// directory at a time (its `.json` and `.jsonl` files and its folders, sorted as whole
    /// relative paths sort), so a captured month costs the names of one folder, not a list of
    /// every file before the first is read.
    ///
    /// Measured: listing 20 000 envelopes up front through `FileManager.enumerator` and
    /// `NSString` path methods took 7 % of a dry-run (perf).
    struct Walk: IteratorProtocol {
        /// A folder being read: its entries sorted, and the next one.
        struct Folder {
            var path: String
            var entries: [(name: String, isFolder: Bool)]
            var next = 0
            /// The folder's own name, the provider of the bare bodies in it (once per folder).
            var name: String?

            init(path: String, entries: [(name: String, isFolder: Bool)]) {
                self.path = path
                self.entries = entries
                self.name = InputFiles.folderName(of: path + "/x")
            }
        }

        var paths: IndexingIterator<[String]>
        var folders: [Folder] = []

        init(_ paths: [String]) { self.paths = paths.makeIterator() }

        mutating func next() -> File? {
            while true {
                if var folder = folders.popLast() {
                    guard folder.next < folder.entries.count else { continue }
                    let entry = folder.entries[folder.next]
                    folder.next += 1
                    folders.append(folder)
                    let full = folder.path.hasSuffix("/") ? folder.path + entry.name : folder.path + "/" + entry.name
                    if entry.isFolder {
                        folders.append(Folder(path: full, entries: InputFiles.entries(of: full)))
                        continue
                    }
                    return File(path: full, display: full, folder: folder.name)
                }
                guard let path = paths.next() else { return nil }
                var status = stat()
                guard stat(path, &status) == 0, status.st_mode & S_IFMT == S_IFDIR else {
                    return File(path: path, display: path, folder: folderName(of: path))
                }
                folders.append(Folder(path: path, entries: InputFiles.entries(of: path)))
            }
        }
    }

    /// Whether a file in a folder is an input: `.json` (one envelope or body) or `.jsonl` (one per line).
    static func isInput(_ name: String) -> Bool { name.hasSuffix(".json") || name.hasSuffix(".jsonl") }

    /// A folder's inputs and sub-folders, hidden ones (`.name`) left out, in the order their
    /// paths sort: a folder sorts as its name followed by `/` (so `a.json` comes before `a/…`,
    /// and `a-b/…` before `a/…`, as the full paths do). A symbolic link is not followed into.
    static func entries(of path: String) -> [(name: String, isFolder: Bool)] {
        guard let directory = opendir(path) else { return [] }
        defer { closedir(directory) }
        var found: [(key: String, name: String, isFolder: Bool)] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name.hasPrefix(".") { continue }
            var type = Int32(entry.pointee.d_type)
            if type == Int32(DT_UNKNOWN) {
                var status = stat()
                let full = path.hasSuffix("/") ? path + name : path + "/" + name
                type = lstat(full, &status) == 0 && status.st_mode & S_IFMT == S_IFDIR ? Int32(DT_DIR) : Int32(DT_REG)
            }
            let isFolder = type == Int32(DT_DIR)
            // A folder named `*.json` is listed as an input too (it fails to read), as before.
            if isInput(name) { found.append((name, name, false)) }
            if isFolder { found.append((name + "/", name, true)) }
        }
        found.sort { $0.key < $1.key }
        return found.map { ($0.name, $0.isFolder) }
    }

    /// The name of the folder holding `path` (`samples/cod/a.json` → `cod`), nil when none is named.
    static func folderName(of path: String) -> String? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        guard parts.count >= 2 else { return nil }
        let folder = parts[parts.count - 2]
        return folder == "." ? nil : String(folder)
    }

    /// The file's bytes, or why they cannot be read. One `open`, `fstat` and `read`s into an
    /// array of the file's size.
    ///
    /// Measured: `FileManager.attributesOfItem` then `contents(atPath:)` (two path walks, an
    /// attribute dictionary, a `Data` copied into an array) took 9 % of a dry-run of 20 000
    /// envelopes.
    static func read(_ file: File, maxSize: Int) -> Result<[UInt8], CaptureError> {
        let descriptor = open(file.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            return .failure(CaptureError("cannot read the file (missing or not accessible)"))
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            return .failure(CaptureError("cannot read the file (missing or not accessible)"))
        }
        let size = Int(status.st_size)
        if size > maxSize {
            return .failure(
                CaptureError("the file is \(size) bytes; captured webhooks are read up to \(maxSize) bytes"))
        }
        var bytes = [UInt8](repeating: 0, count: size)
        var filled = 0
        while true {
            if filled == bytes.count {
                // The file grew since fstat (or is not a regular file): read on, up to the limit.
                guard bytes.count <= maxSize else {
                    return .failure(
                        CaptureError(
                            "the file is more than \(maxSize) bytes; captured webhooks are read up to \(maxSize) bytes")
                    )
                }
                bytes.append(contentsOf: repeatElement(0, count: max(4096, bytes.count)))
            }
            let count = bytes.withUnsafeMutableBytes { buffer in
                readBytes(descriptor, buffer.baseAddress! + filled, buffer.count - filled)
            }
            if count < 0 {
                if errno == EINTR { continue }
                return .failure(CaptureError("cannot read the file"))
            }
            if count == 0 { break }
            filled += count
        }
        bytes.removeLast(bytes.count - filled)
        return .success(bytes)
    }
}

/// `read(2)` (the name `read` is taken by `InputFiles.read` inside the type).
private func readBytes(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
        Glibc.read(descriptor, buffer, count)
    #else
        Darwin.read(descriptor, buffer, count)
    #endif
}

extension InputFiles {
    /// Calls `body` with each line of a JSON Lines file (`.jsonl`: one envelope or body a line)
    /// and its number from 1, as the file is read a megabyte at a time: a captured month in one
    /// file takes the memory of one chunk and its longest line. Blank lines are skipped (their
    /// numbers still count); a line longer than `maxSize` is reported, not read. A file that
    /// cannot be opened or read is reported as line 0.
    static func forEachLine(
        _ file: File, maxSize: Int,
        _ body: (_ line: Int, _ bytes: Result<ArraySlice<UInt8>, CaptureError>) throws -> Void
    ) rethrows {
        let descriptor = open(file.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            return try body(0, .failure(CaptureError("cannot read the file (missing or not accessible)")))
        }
        defer { close(descriptor) }
        let chunk = 1 << 20
        var buffer: [UInt8] = []
        buffer.reserveCapacity(chunk * 2)
        var number = 0
        /// Inside a line longer than `maxSize`: its bytes are dropped up to its end.
        var skipping = false
        func finish(_ line: ArraySlice<UInt8>) throws {
            number += 1
            if skipping {
                skipping = false
                let message = "the line is more than \(maxSize) bytes; lines are read up to \(maxSize) bytes"
                return try body(number, .failure(CaptureError(message)))
            }
            var line = line
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            guard line.contains(where: { $0 != 0x20 && $0 != 0x09 }) else { return }
            try body(number, .success(line))
        }
        while true {
            let start = buffer.count
            buffer.append(contentsOf: repeatElement(0, count: chunk))
            var count = 0
            repeat {
                count = buffer.withUnsafeMutableBytes { raw in readBytes(descriptor, raw.baseAddress! + start, chunk) }
            } while count < 0 && errno == EINTR
            if count < 0 {
                buffer.removeLast(chunk)
                number += 1
                return try body(number, .failure(CaptureError("cannot read the file")))
            }
            buffer.removeLast(chunk - count)
            var lineStart = 0
            while let end = buffer[lineStart...].firstIndex(of: 0x0A) {
                try finish(buffer[lineStart..<end])
                lineStart = end + 1
            }
            if count == 0 {
                if lineStart < buffer.count || skipping { try finish(buffer[lineStart...]) }
                return
            }
            buffer.removeFirst(lineStart)
            if buffer.count > maxSize {
                skipping = true
                buffer.removeAll(keepingCapacity: true)
            }
        }
    }
}
