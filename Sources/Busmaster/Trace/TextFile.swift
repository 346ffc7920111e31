#if canImport(Glibc)
    import Glibc
#endif

/// Whole-file reads and writes of text files with errors that name the file (traces,
/// mmiotrace captures).
enum TextFile {
    /// Reads a whole file as UTF-8 text (invalid bytes become U+FFFD).
    static func read(path: String, what: String) throws -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw BusmasterError.systemCall("open", errno: errno, context: "opening \(what) '\(path)'") }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw BusmasterError.systemCall("read", errno: errno, context: "reading \(what) '\(path)'")
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Replaces `path` with `text`.
    static func write(_ text: String, to path: String, what: String) throws {
        let fd = try openForWriting(path: path, what: what)
        defer { close(fd) }
        var t = text
        try t.withUTF8 { try writeAll(fd: fd, UnsafeRawBufferPointer($0), path: path, what: what) }
    }

    /// Creates or truncates `path` for writing.
    static func openForWriting(path: String, what: String) throws -> Int32 {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw BusmasterError.systemCall("open", errno: errno, context: "creating \(what) '\(path)' (check the directory exists and is writable)")
        }
        return fd
    }

    /// Writes every byte, retrying short writes and EINTR.
    static func writeAll(fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String, what: String) throws {
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw BusmasterError.systemCall("write", errno: errno, context: "writing \(what) '\(path)'")
            }
            done += n
        }
    }
}

/// Fast line and field splitting on UTF-8 bytes (traces can have millions of lines).
enum TextLines {
    static let newline = UInt8(ascii: "\n")
    static let carriageReturn = UInt8(ascii: "\r")
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")

    /// The lines of `text` (LF or CRLF endings; a final newline does not start an empty line
    /// that counts, since blank lines carry nothing).
    static func split(_ text: String) -> [Substring] {
        text.utf8.split(separator: newline, omittingEmptySubsequences: false).map { raw in
            var l = raw
            if l.last == carriageReturn { l = l.dropLast() }
            return Substring(l)
        }
    }

    /// The space- or tab-separated fields of `line`.
    static func tokens(_ line: Substring) -> [Substring] {
        line.utf8.split(whereSeparator: { $0 == space || $0 == tab }).map { Substring($0) }
    }
}
