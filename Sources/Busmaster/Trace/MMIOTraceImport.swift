/// A device as a Linux mmiotrace `PCIDEV` line describes it.
public struct MMIOTraceDevice: Sendable, Hashable {
    /// Bus, device and function (mmiotrace has no domain; it is 0 here).
    public var address: PCIAddress
    /// Vendor ID.
    public var vendorID: UInt16
    /// Device ID.
    public var deviceID: UInt16
    /// Interrupt line.
    public var irq: Int
    /// Resource starts (BAR0–5, ROM) with the BAR flag nibble still ORed in.
    public var starts: [UInt64]
    /// Resource sizes (0 = none).
    public var sizes: [UInt64]
    /// Bound driver ("" when none).
    public var driver: String
    /// The 1-based line of the `PCIDEV` record.
    public var line: Int

    /// The BAR (0...5, or 6 for the expansion ROM) and offset of physical address `phys`.
    public func locate(_ phys: UInt64) -> (resource: Int, offset: UInt64)? {
        for i in 0..<min(starts.count, sizes.count) where sizes[i] > 0 {
            let base = starts[i] & ~0xF
            if phys >= base && phys - base < sizes[i] { return (i, phys - base) }
        }
        return nil
    }

    /// The BARs (flags decoded from the nibble: 1 I/O, 4 64-bit, 8 prefetchable).
    public var bars: [TraceBAR] {
        (0..<min(6, starts.count, sizes.count)).compactMap { i in
            guard sizes[i] > 0 else { return nil }
            let flags = starts[i] & 0xF
            return TraceBAR(
                index: i, kind: flags & 1 != 0 ? .io : .memory, size: sizes[i], is64Bit: flags & 4 != 0, isPrefetchable: flags & 8 != 0)
        }
    }

    /// `bb:dd.f vvvv:dddd driver`.
    public var summary: String {
        "\(address.shortDescription) \(hex(vendorID, 4)):\(hex(deviceID, 4))" + (driver.isEmpty ? "" : " \(driver)")
    }
}

/// The result of importing a Linux mmiotrace.
public struct MMIOTraceImport: Sendable {
    /// The trace of the chosen device.
    public var trace: Trace
    /// The chosen device.
    public var device: MMIOTraceDevice
    /// Every device the capture lists.
    public var devices: [MMIOTraceDevice]
    /// Problems worth telling the user (lost events, undecoded accesses); each also appears
    /// as a comment in the trace.
    public var warnings: [String]
}

/// Converts Linux mmiotrace text (`/sys/kernel/tracing/trace_pipe` with the `mmiotrace`
/// tracer, format 20070824) into a ``Trace``.
///
/// Physical addresses become BAR + offset through the chosen device's `PCIDEV` resources
/// (flag nibble masked off); `R`/`W` become reads and writes (consecutive identical reads
/// folded), `MARK` stays a mark; `MAP`, `UNMAP` and `UNKNOWN` become comments, and a
/// `Lost N events` mark adds a warning comment. mmiotrace does not see config space, DMA
/// memory or interrupts, so the trace has only BAR accesses and marks.
public enum MMIOTraceImporter {
    /// The mmiotrace format version understood.
    public static let version = "20070824"

    private enum Record {
        case map(id: Int, phys: UInt64, length: UInt64)
        case unmap(id: Int)
        case access(write: Bool, width: AccessWidth, phys: UInt64, value: UInt64)
        case mark(String)
        case unknown(id: Int, phys: UInt64, opcode: String)
        case comment(String)
    }

    /// Reads and imports an mmiotrace file.
    public static func importFile(path: String, device: PCIAddress? = nil) throws -> MMIOTraceImport {
        try importTrace(TextFile.read(path: path, what: "mmiotrace file"), fileName: path, device: device)
    }

    /// Imports mmiotrace text.
    ///
    /// - Parameters:
    ///   - device: which `PCIDEV` to keep (bus:dev.fn; the domain is ignored). When nil, the
    ///     only device listed, or the only device the accesses touch, is chosen; otherwise
    ///     the error lists the candidates.
    /// - Throws: ``BusmasterError/traceFormat(file:line:message:)`` for malformed lines and
    ///   accesses outside the device's BARs; ``BusmasterError/noSuchDevice(_:)`` or
    ///   ``BusmasterError/invalidArgument(_:)`` when the device cannot be chosen.
    public static func importTrace(_ text: String, fileName: String = "<mmiotrace>", device: PCIAddress? = nil) throws -> MMIOTraceImport {
        func fail(_ line: Int, _ m: String) -> BusmasterError { .traceFormat(file: fileName, line: line, message: m) }
        var devices: [MMIOTraceDevice] = []
        var records: [(Record, Int)] = []
        var sawVersion = false
        var lineNo = 0
        for line in TextLines.split(text) {
            lineNo += 1
            let t = TextLines.tokens(line)
            guard let keyword = t.first else { continue }
            if keyword.hasPrefix("#") {
                records.append((.comment(String(line.drop { $0 == "#" || $0 == " " })), lineNo))
                continue
            }
            if !sawVersion {
                guard keyword == "VERSION" else {
                    throw fail(lineNo, "not an mmiotrace: the first record must be 'VERSION \(version)'")
                }
                guard t.count == 2 else { throw fail(lineNo, "malformed VERSION record (expected 'VERSION \(version)')") }
                guard t[1] == version else {
                    throw fail(lineNo, "mmiotrace version \(t[1]) is not supported (expected \(version))")
                }
                sawVersion = true
                continue
            }
            switch keyword {
            case "VERSION": throw fail(lineNo, "a second VERSION record")
            case "PCIDEV": devices.append(try parsePCIDev(t, lineNo, fail))
            case "MAP":
                try need(t, 8, "MAP <time> <id> 0x<phys> 0x<virt> 0x<len> 0x<pc> <pid>", lineNo, fail)
                try timestamp(t[1], lineNo, fail)
                records.append(
                    (.map(id: try int(t[2], "map id", lineNo, fail), phys: try hex0x(t[3], "physical address", lineNo, fail),
                          length: try hex0x(t[5], "length", lineNo, fail)), lineNo))
            case "UNMAP":
                try need(t, 5, "UNMAP <time> <id> 0x<pc> <pid>", lineNo, fail)
                try timestamp(t[1], lineNo, fail)
                records.append((.unmap(id: try int(t[2], "map id", lineNo, fail)), lineNo))
            case "R", "W":
                try need(t, 8, "\(keyword) <width> <time> <id> 0x<phys> 0x<value> 0x<pc> <pid>", lineNo, fail)
                guard let bytes = Int(t[1]), let width = AccessWidth(rawValue: bytes) else {
                    throw fail(lineNo, "access width must be 1, 2, 4 or 8 bytes (got '\(t[1])')")
                }
                try timestamp(t[2], lineNo, fail)
                _ = try int(t[3], "map id", lineNo, fail)
                let phys = try hex0x(t[4], "physical address", lineNo, fail)
                let value = try hex0x(t[5], "value", lineNo, fail)
                guard value & ~width.mask == 0 else {
                    throw fail(lineNo, "value 0x\(String(value, radix: 16)) does not fit a \(width.bits)-bit access")
                }
                _ = try hex0x(t[6], "pc", lineNo, fail)
                records.append((.access(write: keyword == "W", width: width, phys: phys, value: value), lineNo))
            case "MARK":
                try need(t, 2..., "MARK <time> <text>", lineNo, fail)
                try timestamp(t[1], lineNo, fail)
                let afterKeyword = line.drop { $0 == " " || $0 == "\t" }.dropFirst(4).drop { $0 == " " || $0 == "\t" }
                let text = afterKeyword.drop { $0 != " " && $0 != "\t" }.trimmingSpaces()
                records.append((.mark(text), lineNo))
            case "UNKNOWN":
                try need(t, 7, "UNKNOWN <time> <id> 0x<phys> <op,op,op> 0x<pc> <pid>", lineNo, fail)
                try timestamp(t[1], lineNo, fail)
                records.append(
                    (.unknown(id: try int(t[2], "map id", lineNo, fail), phys: try hex0x(t[3], "physical address", lineNo, fail),
                              opcode: String(t[4])), lineNo))
            default:
                throw fail(lineNo, "unknown mmiotrace record '\(keyword)'")
            }
        }
        guard sawVersion else { throw fail(max(lineNo, 1), "empty file: an mmiotrace starts with 'VERSION \(version)'") }
        let chosen = try choose(device, devices, records, fileName: fileName, lastLine: lineNo)
        return try convert(records, chosen, devices, fileName: fileName, fail)
    }

    // MARK: Choosing the device

    private static func choose(
        _ wanted: PCIAddress?, _ devices: [MMIOTraceDevice], _ records: [(Record, Int)], fileName: String, lastLine: Int
    ) throws -> MMIOTraceDevice {
        let list = devices.map(\.summary).joined(separator: ", ")
        if let wanted {
            guard let d = devices.first(where: { $0.address.bus == wanted.bus && $0.address.device == wanted.device && $0.address.function == wanted.function })
            else {
                throw BusmasterError.noSuchDevice("\(wanted.shortDescription) in mmiotrace \(fileName) (it lists: \(list.isEmpty ? "none" : list))")
            }
            return d
        }
        guard !devices.isEmpty else {
            throw BusmasterError.traceFormat(
                file: fileName, line: max(lastLine, 1), message: "no PCIDEV record, so addresses cannot be mapped to BARs")
        }
        if devices.count == 1 { return devices[0] }
        var touched: [Int: Int] = [:]  // device index → accesses
        for case (.access(_, _, let phys, _), _) in records {
            if let i = devices.firstIndex(where: { $0.locate(phys) != nil }) { touched[i, default: 0] += 1 }
        }
        if touched.count == 1, let i = touched.keys.first { return devices[i] }
        if touched.isEmpty {
            throw BusmasterError.invalidArgument(
                "mmiotrace \(fileName) lists \(devices.count) devices (\(list)) and no access picks one; choose one by bus:dev.fn")
        }
        let which = touched.keys.sorted().map { "\(devices[$0].summary) (\(touched[$0]!) accesses)" }.joined(separator: ", ")
        throw BusmasterError.invalidArgument("mmiotrace \(fileName) has accesses to several devices: \(which); choose one by bus:dev.fn")
    }

    // MARK: Conversion

    private static func convert(
        _ records: [(Record, Int)], _ dev: MMIOTraceDevice, _ devices: [MMIOTraceDevice], fileName: String,
        _ fail: (Int, String) -> BusmasterError
    ) throws -> MMIOTraceImport {
        var events: [TraceEvent] = []
        var warnings: [String] = []
        var coalescer = RecordingCoalescer()
        func emit(_ e: TraceEvent) { events.append(e) }
        func add(_ e: TraceEvent) { coalescer.add(e, emit: emit) }
        func place(_ phys: UInt64) -> String {
            if let (r, o) = dev.locate(phys) { return r == 6 ? "ROM+0x\(String(o, radix: 16))" : "bar\(r)+0x\(String(o, radix: 16))" }
            if let other = devices.first(where: { $0.locate(phys) != nil }) { return "device \(other.address.shortDescription)" }
            return "no BAR"
        }
        add(
            .comment(
                "imported from mmiotrace \(fileName): \(dev.summary), irq \(dev.irq)"))
        for (record, line) in records {
            switch record {
            case .comment(let text): add(.comment(text))
            case .map(let id, let phys, let length):
                add(.comment("MAP \(id) 0x\(String(phys, radix: 16)) 0x\(String(length, radix: 16)) (\(place(phys)))"))
            case .unmap(let id): add(.comment("UNMAP \(id)"))
            case .mark(let text):
                add(.mark(TraceFormat.sanitized(text)))
                if let lost = lostEvents(text) {
                    let w = "mmiotrace lost \(lost) events here (line \(line)); the trace is incomplete: grow buffer_size_kb and capture again"
                    warnings.append(w)
                    add(.comment("WARNING: " + w))
                }
            case .unknown(let id, let phys, let opcode):
                let w = "an access at 0x\(String(phys, radix: 16)) (\(place(phys)), map \(id)) was not decoded by mmiotrace (opcode \(opcode)) on line \(line)"
                warnings.append(w)
                add(.comment("UNKNOWN: " + w))
            case .access(let write, let width, let phys, let value):
                guard let (r, offset) = dev.locate(phys) else {
                    if let other = devices.first(where: { $0.locate(phys) != nil }) {
                        add(.comment("skipped \(write ? "W" : "R")\(width.bits) 0x\(String(phys, radix: 16)): belongs to \(other.summary)"))
                        continue
                    }
                    let bars = dev.bars.map { "BAR\($0.index) 0x\(String(dev.starts[$0.index] & ~0xF, radix: 16))+0x\(String($0.size, radix: 16))" }
                    throw fail(
                        line,
                        "address 0x\(String(phys, radix: 16)) is outside every BAR of \(dev.address.shortDescription) (\(bars.joined(separator: ", ")))")
                }
                guard r < 6 else {
                    throw fail(line, "address 0x\(String(phys, radix: 16)) is in the expansion ROM, which a trace cannot express")
                }
                add(
                    write
                        ? .write(bar: r, offset: Int(offset), width: width, value: .literal(value))
                        : .read(bar: r, offset: Int(offset), width: width, value: value, count: 1))
            }
        }
        coalescer.flush(emit)
        let trace = Trace(
            device: TraceDevice(address: dev.address, vendorID: dev.vendorID, deviceID: dev.deviceID, bars: dev.bars), events: events,
            fileName: fileName)
        return MMIOTraceImport(trace: trace, device: dev, devices: devices, warnings: warnings)
    }

    /// N of a `Lost N events.` mark.
    private static func lostEvents(_ text: String) -> Int? {
        let t = text.split(separator: " ")
        guard t.count >= 3, t[0] == "Lost", t[2].hasPrefix("events") else { return nil }
        return Int(t[1])
    }

    // MARK: Fields

    private static func parsePCIDev(_ t: [Substring], _ n: Int, _ fail: (Int, String) -> BusmasterError) throws -> MMIOTraceDevice {
        guard t.count >= 18 else {
            throw fail(n, "truncated PCIDEV record: expected bus+devfn, vendor+device, irq, 7 resource starts and 7 sizes")
        }
        guard t[1].count == 4, let bdf = UInt16(t[1], radix: 16) else { throw fail(n, "bad PCIDEV bus+devfn '\(t[1])' (expected 4 hex digits)") }
        guard t[2].count == 8, let ids = UInt32(t[2], radix: 16) else { throw fail(n, "bad PCIDEV vendor+device '\(t[2])' (expected 8 hex digits)") }
        guard let irq = Int(t[3], radix: 16) else { throw fail(n, "bad PCIDEV irq '\(t[3])'") }
        var values: [UInt64] = []
        for i in 4..<18 {
            guard let v = UInt64(t[i], radix: 16) else { throw fail(n, "bad PCIDEV resource field '\(t[i])' (expected hex)") }
            values.append(v)
        }
        let devfn = UInt8(bdf & 0xFF)
        return MMIOTraceDevice(
            address: PCIAddress(bus: UInt8(bdf >> 8), device: devfn >> 3, function: devfn & 7), vendorID: UInt16(ids >> 16),
            deviceID: UInt16(ids & 0xFFFF), irq: irq, starts: Array(values[0..<7]), sizes: Array(values[7..<14]),
            driver: t.count > 18 ? t[18...].joined(separator: " ") : "", line: n)
    }

    private static func need<R: RangeExpression>(
        _ t: [Substring], _ r: R, _ usage: String, _ n: Int, _ fail: (Int, String) -> BusmasterError
    ) throws where R.Bound == Int {
        guard r.contains(t.count) else {
            throw fail(n, "\(t.count < r.relative(to: 0..<Int.max).lowerBound ? "truncated" : "malformed") record: expected '\(usage)'")
        }
    }

    private static func need(_ t: [Substring], _ count: Int, _ usage: String, _ n: Int, _ fail: (Int, String) -> BusmasterError) throws {
        try need(t, count...count, usage, n, fail)
    }

    private static func timestamp(_ s: Substring, _ n: Int, _ fail: (Int, String) -> BusmasterError) throws {
        let p = s.split(separator: ".", omittingEmptySubsequences: false)
        guard p.count == 2, !p[0].isEmpty, !p[1].isEmpty, p.allSatisfy({ $0.allSatisfy(\.isASCII) && UInt64($0) != nil }) else {
            throw fail(n, "bad timestamp '\(s)' (expected seconds.microseconds)")
        }
    }

    private static func int(_ s: Substring, _ what: String, _ n: Int, _ fail: (Int, String) -> BusmasterError) throws -> Int {
        guard let v = Int(s) else { throw fail(n, "bad \(what) '\(s)' (expected a decimal number)") }
        return v
    }

    private static func hex0x(_ s: Substring, _ what: String, _ n: Int, _ fail: (Int, String) -> BusmasterError) throws -> UInt64 {
        guard s.hasPrefix("0x"), let v = UInt64(s.dropFirst(2), radix: 16) else {
            throw fail(n, "bad \(what) '\(s)' (expected 0x-prefixed hex)")
        }
        return v
    }
}
