import Busmaster
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// Small, throwing helpers for sysfs/procfs/dev files (no Foundation, so the guest test
/// binary can be a static executable).
enum SysFile {
    /// Whether `path` exists (following symlinks).
    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// Whether `path` is a directory (following symlinks).
    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Reads up to `limit` bytes of a file.
    static func readBytes(_ path: String, limit: Int = 1 << 20) throws -> [UInt8] {
        let fd = try open(path, .readOnly)
        defer { try? fd.close() }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while out.count < limit {
            let want = min(chunk.count, limit - out.count)
            let n: Int
            do {
                n = try chunk.withUnsafeMutableBytes { try fd.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<want])) }
            } catch let e as Errno {
                // sysfs config files of some devices stop with EIO past the readable part.
                if !out.isEmpty && e == .ioError { break }
                throw BusmasterError.systemCall("read", errno: e.rawValue, context: "reading \(path)")
            }
            if n == 0 { break }
            out += chunk[0..<n]
        }
        return out
    }

    /// Reads a text attribute, without the trailing newline and spaces.
    static func readText(_ path: String) throws -> String {
        let bytes = try readBytes(path, limit: 65536)
        return String(decoding: bytes, as: UTF8.self).trimmingWhitespace()
    }

    /// Reads a text attribute, or nil when it does not exist or cannot be read.
    static func readTextIfPresent(_ path: String) -> String? { try? readText(path) }

    /// Reads a `0x…` hexadecimal or decimal attribute.
    static func readNumber(_ path: String) -> UInt64? {
        guard let t = readTextIfPresent(path) else { return nil }
        return parseNumber(t)
    }

    /// Parses `0x…` hex or plain decimal.
    static func parseNumber(_ text: String) -> UInt64? {
        let t = text.trimmingWhitespace()
        if t.hasPrefix("0x") || t.hasPrefix("0X") { return UInt64(t.dropFirst(2), radix: 16) }
        return UInt64(t)
    }

    /// The target of a symlink, or nil.
    static func readLink(_ path: String) -> String? {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink(path, &buf, buf.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The last path component of a symlink's target (e.g. the driver name), or nil.
    static func linkBasename(_ path: String) -> String? {
        guard let t = readLink(path) else { return nil }
        return t.split(separator: "/").last.map(String.init)
    }

    /// Entries of a directory (without `.` and `..`), sorted; nil when it cannot be listed.
    static func list(_ path: String) -> [String]? {
        guard let dir = opendir(path) else { return nil }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw -> String in
                let bytes = raw.bindMemory(to: UInt8.self)
                let len = bytes.firstIndex(of: 0) ?? bytes.count
                return String(decoding: bytes[0..<len], as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// Writes `text` to an existing attribute (like `echo text > path`), as one write.
    static func write(_ path: String, _ text: String) throws {
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(FilePath(path), .writeOnly, options: [.truncate, .closeOnExec])
        } catch let e as Errno {
            throw BusmasterError.systemCall("open", errno: e.rawValue, context: "opening \(path) for writing")
        }
        defer { try? fd.close() }
        do {
            let bytes = Array(text.utf8)
            let n = try bytes.withUnsafeBytes { try fd.write($0) }
            if n != bytes.count {
                throw BusmasterError.platform("short write to \(path): \(n) of \(bytes.count) bytes")
            }
        } catch let e as Errno {
            throw BusmasterError.systemCall("write", errno: e.rawValue, context: "writing '\(text.trimmingWhitespace())' to \(path)")
        }
    }

    /// Opens a file, mapping the error to ``BusmasterError/systemCall(_:errno:context:)``.
    static func open(_ path: String, _ mode: FileDescriptor.AccessMode, options: FileDescriptor.OpenOptions = []) throws -> FileDescriptor {
        do {
            return try FileDescriptor.open(FilePath(path), mode, options: options.union(.closeOnExec))
        } catch let e as Errno {
            throw BusmasterError.systemCall("open", errno: e.rawValue, context: "opening \(path)")
        }
    }
}

extension StringProtocol {
    /// The string without leading and trailing spaces, tabs, CRs and newlines.
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\n" || f == "\r" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\n" || l == "\r" { s.removeLast() }
        return String(s)
    }
}

/// The errno of a ``BusmasterError/systemCall(_:errno:context:)``, or nil.
func errnoOf(_ error: any Error) -> Int32? {
    if case BusmasterError.systemCall(_, let e, _) = error { return e }
    return nil
}
