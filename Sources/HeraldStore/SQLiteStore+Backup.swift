import Foundation
import GRDB

#if canImport(Glibc)
    import Glibc
#endif

/// What `herald backup` wrote: the counts are read from the copy itself.
public struct BackupSummary: Sendable, Equatable {
    public var destination: String
    public var events: Int
    public var messages: Int
    public var bytes: Int64
}

/// Why a backup was not written, with what to do about it.
public struct BackupError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        /// No database at the given path (or a directory there).
        case noStore
        /// The file is an SQLite database but not Herald's.
        case notAStore
        /// The destination exists: pass `replacing` (`--force`) or choose another name.
        case destinationExists
        /// SQLite or the file system failed (disk full, no permission, not a database).
        case failed
    }

    public var code: Code
    /// The file the problem is about: the database or the destination.
    public var file: String
    public var message: String

    public init(code: Code, file: String, message: String) {
        self.code = code
        self.file = file
        self.message = message
    }

    /// `FILE: error: what happened`, as the other subcommands print problems.
    public var description: String { "\(file): error: \(message)" }
}

extension SQLiteStore {
    /// Writes a consistent copy of the database at `path` to `destination` while `herald serve`
    /// may be writing to it, and returns what the copy holds.
    ///
    /// `VACUUM INTO` rather than the online backup API (`DatabaseReader.backup(to:)`): it copies
    /// within one read transaction, so the copy is the snapshot of the moment it starts (every
    /// event committed before is in it) and writers in WAL mode are never blocked; the backup API
    /// restarts its page copy whenever another connection writes, so a busy server can starve it.
    /// The copy is also compact (no free pages). It is written to a temporary file in the
    /// destination's folder, fsynced (SQLite does not sync a `VACUUM INTO` output), and only then
    /// given its name, so an interrupted backup never leaves a truncated file under that name.
    ///
    /// The source is opened read-only and never migrated: a newer `herald` can back up the database
    /// of an older server that is still running.
    public static func backup(databaseAt path: String, to destination: String, replacing: Bool = false)
        throws(BackupError) -> BackupSummary
    {
        if let problem = directoryProblem(path: path) {
            throw BackupError(code: .noStore, file: path, message: "cannot open the store: \(problem)")
        }
        guard FileManager.default.fileExists(atPath: path) else {
            throw BackupError(
                code: .noStore, file: path, message: "no store here (run herald serve first, or pass --db)")
        }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: destination, isDirectory: &isDirectory) {
            guard !isDirectory.boolValue, replacing else {
                let what = isDirectory.boolValue ? "is a directory" : "already exists (pass --force to replace it)"
                throw BackupError(code: .destinationExists, file: destination, message: what)
            }
        }
        let target = URL(fileURLWithPath: destination)
        let folder = target.deletingLastPathComponent().path
        var folderIsDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &folderIsDirectory),
            folderIsDirectory.boolValue
        else {
            throw BackupError(code: .failed, file: destination, message: "the folder \(folder) does not exist")
        }
        let partial = target.deletingLastPathComponent()
            .appendingPathComponent(".\(target.lastPathComponent).partial-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: partial) }
        do {
            try? FileManager.default.removeItem(atPath: partial)
            var configuration = Configuration()
            configuration.readonly = true
            configuration.busyMode = .timeout(5)
            let source = try DatabaseQueue(path: path, configuration: configuration)
            try source.inDatabase { db in
                guard try db.tableExists("events"), try db.tableExists("messages") else {
                    throw BackupError(code: .notAStore, file: path, message: "not a Herald store (no events table)")
                }
                try db.execute(sql: "VACUUM INTO ?", arguments: [partial])
            }
            try source.close()
            try synchronize(file: partial)
            let copy = try DatabaseQueue(path: partial)
            let (events, messages) = try copy.read { db in
                (
                    try Int.fetchOne(db, sql: "SELECT count(*) FROM events") ?? 0,
                    try Int.fetchOne(db, sql: "SELECT count(*) FROM messages") ?? 0
                )
            }
            try copy.close()
            try place(partial, at: destination, replacing: replacing)
            try synchronize(file: folder)
            let attributes = try? FileManager.default.attributesOfItem(atPath: destination)
            let size = (attributes?[.size] as? NSNumber)?.int64Value ?? 0
            return BackupSummary(destination: destination, events: events, messages: messages, bytes: size)
        } catch let error as BackupError {
            throw error
        } catch {
            throw BackupError(code: .failed, file: destination, message: "backing up \(path) failed: \(error)")
        }
    }

    /// Flushes a file (or a folder's entries) to disk.
    private static func synchronize(file path: String) throws {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw BackupError(code: .failed, file: path, message: "cannot open to sync") }
        defer { _ = Glibc.close(descriptor) }
        guard fsync(descriptor) == 0 else { throw BackupError(code: .failed, file: path, message: "fsync failed") }
    }

    /// Gives the finished copy its name: `rename` replaces an existing file at once; `link` refuses
    /// one that appeared since the check, so nothing is overwritten without `replacing`.
    private static func place(_ partial: String, at destination: String, replacing: Bool) throws {
        if replacing {
            guard rename(partial, destination) == 0 else {
                throw BackupError(
                    code: .failed, file: destination, message: "cannot write: \(String(cString: strerror(errno)))")
            }
            return
        }
        guard link(partial, destination) == 0 else {
            if errno == EEXIST {
                throw BackupError(
                    code: .destinationExists, file: destination, message: "already exists (pass --force to replace it)")
            }
            throw BackupError(
                code: .failed, file: destination, message: "cannot write: \(String(cString: strerror(errno)))")
        }
    }
}
