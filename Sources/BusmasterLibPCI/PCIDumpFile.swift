import Busmaster

#if canImport(Glibc)
    import Glibc
#endif

/// A config-space dump in `lspci -x/-xxx/-xxxx` format, checked line by line with the
/// rules of libpci's `dump` method, so that a bad file is reported with its line number
/// before libpci (which only says "Malformed line") reads it.
///
/// Format: a header line `bb:dd.f`, `dddd:bb:dd.f` or `ddddd:bb:dd.f` followed by a space
/// and any text starts a device; data lines `<offset>: xx xx ...` (2–8 hex digit offset,
/// two-digit hex bytes separated by single spaces) fill its config space (≤ 4096 bytes);
/// a blank line ends the device; other lines are ignored. Every line must end in a
/// newline and be shorter than 254 characters.
public struct PCIDumpFile: Sendable, Hashable {
    /// One device of the dump.
    public struct Device: Sendable, Hashable {
        /// Its address.
        public var address: PCIAddress
        /// The header line's text after the address.
        public var title: String
        /// 1-based line number of the header.
        public var line: Int
        /// Config bytes (bytes not in the dump read 0xFF), as long as the highest offset dumped.
        public var config: [UInt8]
    }

    /// The file's path (for messages).
    public let path: String
    /// Devices in file order.
    public let devices: [Device]

    /// libpci's line buffer: lines (with their newline) must fit in 254 characters.
    public static let maximumLineLength = 253
    /// libpci keeps at most 4096 config bytes per device.
    public static let maximumConfigSize = 4096

    /// Reads and checks the file at `path`.
    public init(contentsOf path: String) throws {
        guard let f = fopen(path, "rb") else {
            throw LibPCIError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&chunk, 1, chunk.count, f)
            if n == 0 { break }
            bytes += chunk[0..<n]
            if bytes.count > 16 << 20 {
                throw LibPCIError.malformed(path: path, line: 1, message: "file is larger than 16 MiB; not a config-space dump")
            }
        }
        try self.init(bytes: bytes, path: path)
    }

    /// Checks dump text held in memory; `path` names it in messages.
    public init(bytes: [UInt8], path: String) throws {
        self.path = path
        var devices: [Device] = []
        var current: Int?  // index into devices
        var seen: [PCIAddress: Int] = [:]
        var lineNo = 0
        var start = 0
        func fail(_ m: String) -> LibPCIError { .malformed(path: path, line: lineNo, message: m) }
        while start < bytes.count {
            lineNo += 1
            guard let nl = bytes[start...].firstIndex(of: 0x0A) else {
                throw fail("the last line does not end with a newline (libpci requires one after every line)")
            }
            var line = Array(bytes[start..<nl])
            start = nl + 1
            if line.last == 0x0D { line.removeLast() }
            guard line.count + 1 <= Self.maximumLineLength else {
                throw fail("line is \(line.count) characters long; libpci reads at most \(Self.maximumLineLength - 1)")
            }
            let text = String(decoding: line, as: UTF8.self)
            if let (address, title) = try Self.header(text, fail: fail) {
                if let first = seen[address] { throw fail("device \(address) appears a second time (first at line \(first))") }
                seen[address] = lineNo
                devices.append(Device(address: address, title: title, line: lineNo, config: []))
                current = devices.count - 1
            } else if line.isEmpty {
                current = nil
            } else if let (offset, data) = try Self.dataLine(text, fail: fail) {
                guard let d = current else {
                    throw fail("data line outside a device: add a header line such as `03:00.0 Description` before it")
                }
                guard offset + data.count <= Self.maximumConfigSize else {
                    throw fail("bytes up to offset 0x\(String(offset + data.count - 1, radix: 16)) exceed the 4096 bytes of config space")
                }
                if devices[d].config.count < offset + data.count {
                    devices[d].config += [UInt8](repeating: 0xFF, count: offset + data.count - devices[d].config.count)
                }
                devices[d].config.replaceSubrange(offset..<(offset + data.count), with: data)
            }
        }
        guard !devices.isEmpty else { throw LibPCIError.noDevices(path: path) }
        self.devices = devices
    }

    private static func isHex(_ c: Character) -> Bool { c.isHexDigit && c.isASCII }

    /// A header line (`[ddddd:|dddd:]bb:dd.f ` + text) → address and text; nil for other lines.
    static func header(_ text: String, fail: (String) -> LibPCIError) throws -> (PCIAddress, String)? {
        let chars = Array(text)
        for pattern in ["##:##.#", "####:##:##.#", "#####:##:##.#"] {
            let p = Array(pattern)
            guard chars.count >= p.count else { continue }
            let matches = zip(chars, p).allSatisfy { c, f in f == "#" ? isHex(c) : c == f }
            guard matches else { continue }
            let addr = String(chars[0..<p.count])
            if chars.count == p.count {
                throw fail("header line '\(addr)' needs a space and a description after the address (libpci ignores it otherwise)")
            }
            guard chars[p.count] == " " else { continue }
            guard let fn = chars[p.count - 1].wholeNumberValue, fn < 8 else {
                throw fail("function number in '\(addr)' must be 0-7")
            }
            _ = fn
            do {
                let a = try PCIAddress(parsing: addr)
                return (a, String(chars[(p.count + 1)...]))
            } catch {
                throw fail("bad device address '\(addr)': \(error)")
            }
        }
        return nil
    }

    /// A data line (`off: xx xx ...`) → offset and bytes; nil for other lines.
    static func dataLine(_ text: String, fail: (String) -> LibPCIError) throws -> (Int, [UInt8])? {
        let chars = Array(text)
        var i = 0
        while i < chars.count && isHex(chars[i]) { i += 1 }
        guard (2...8).contains(i), i + 1 < chars.count, chars[i] == ":", chars[i + 1] == " " else { return nil }
        guard let offset = Int(String(chars[0..<i]), radix: 16) else { return nil }
        var bytes: [UInt8] = []
        var j = i + 2
        while j < chars.count {
            guard j + 1 < chars.count, isHex(chars[j]), isHex(chars[j + 1]), j + 2 == chars.count || chars[j + 2] == " " else {
                let rest = String(chars[j...].prefix(12))
                throw fail(
                    "malformed data at column \(j + 1) ('\(rest)'): each byte must be two hex digits followed by one space "
                        + "or the end of the line (lspci -x format)")
            }
            bytes.append(UInt8(String(chars[j...(j + 1)]), radix: 16)!)
            j += 3
        }
        return (offset, bytes)
    }
}
