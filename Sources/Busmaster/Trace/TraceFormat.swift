/// The text form of a ``Trace``: one event per line, keyword first, no timestamps, so two
/// traces can be compared with `diff` or ``TraceDiff``.
///
/// ```
/// # busmaster-trace 1
/// DEVICE 0000:00:01.0 1234:11e8 class=00ff00 rev=10 subsys=1af4:1100
/// BAR 0 mem 0x100000 32bit
/// MARK free text
/// CR16 0x004 0x0107                       config read: width in bits, offset, value
/// CW16 0x004 0x0107                       config write
/// R32 bar0 0x0020 0x00000001              BAR read: width, BAR, offset, value (padded to width)
/// R32 bar0 0x0020 0x00000001 x57          the same read 57 times in a row (a folded poll)
/// W32 bar0 0x0004 0x12345678              BAR write
/// W64 bar0 0x0080 buf1+0x0                a bus address inside DMA buffer 1
/// W32 bar0 0x0080 lo:buf1+0x40            its low 32 bits
/// W32 bar0 0x0084 hi:buf1+0x40            its high 32 bits
/// DMA-ALLOC buf1 0x1000 to-device contiguous
/// DMA-LOCK buf2 0x2000 from-device
/// DMA-SYNC device buf1 0x0 0x1000 crc32=0x1a2b3c4d
/// DMA-SYNC cpu buf2 0x0 0x1000 crc32=0x1a2b3c4d
/// DATA buf2 0x0 000102…                   the synced bytes, ≤ 32 per line
/// DMA-FREE buf1
/// IRQ-ENABLE msi 1
/// IRQ v0 1
/// IRQ-TIMEOUT v0
/// IRQ-UNMASK
/// IRQ-DISABLE
/// RESET
/// ```
///
/// Extensions (all optional, never needed by a reader of the lines above):
/// - `DEVICE … cfg=4096`: readable config-space size, written when it is not 256.
/// - `CR… xN`: folded config reads, like BAR reads.
/// - `DMA-ALLOC …/DMA-LOCK … bus=0x10000000/0x1000[,…]`: the recorded bus segments
///   (written unless ``TraceRecordingOptions/recordBusAddresses`` is off). Replay then gives
///   the buffers the same addresses, so descriptor memory holding bus addresses keeps its
///   CRC; ``TraceDiff`` ignores the field.
///
/// Symbolic values (the rule the recorder follows; "inside" means inside a bus segment of a
/// buffer allocated or locked and not yet freed):
/// 1. a 64-bit write of an address inside a buffer is `bufN+0xOFF`;
/// 2. a 32-bit write whose value, as an address below 4 GiB, is inside a buffer is
///    `lo:bufN+0xOFF`, and an immediately following 32-bit write of that address's high half
///    (0) to offset+4 of the same BAR is `hi:bufN+0xOFF`;
/// 3. two immediately consecutive 32-bit writes to offsets o and o+4 of one BAR, in either
///    order, whose values (low at o, high at o+4) form an address above 4 GiB inside a buffer
///    are `lo:`/`hi:` (the recorder holds the first write back one event to decide);
/// 4. anything else, and every config write, is a number.
public enum TraceFormat {
    /// The first line of every trace.
    public static let header = "# busmaster-trace 1"
    /// The format version this code reads and writes.
    public static let version = 1
    /// Bytes per `DATA` line.
    public static let dataBytesPerLine = 32

    /// Renders a whole trace, ending with a newline.
    public static func render(_ trace: Trace) -> String {
        var out = headerLines(trace.device).joined(separator: "\n") + "\n"
        for e in trace.events {
            for l in lines(of: e) {
                out += l
                out += "\n"
            }
        }
        return out
    }

    /// The header, `DEVICE` and `BAR` lines of a trace.
    public static func headerLines(_ device: TraceDevice) -> [String] {
        [header, deviceLine(device)] + device.bars.map(barLine)
    }

    /// The `DEVICE` line.
    public static func deviceLine(_ d: TraceDevice) -> String {
        var s = "DEVICE \(d.address.description) \(d.idString)"
        if let c = d.classCode { s += " class=" + hex(c & 0xFF_FFFF, 6) }
        if let r = d.revision { s += " rev=" + hex(r, 2) }
        if let v = d.subsystemVendorID, let i = d.subsystemID { s += " subsys=" + hex(v, 4) + ":" + hex(i, 4) }
        if d.configSize != 256 { s += " cfg=\(d.configSize)" }
        return s
    }

    /// A `BAR` line.
    public static func barLine(_ b: TraceBAR) -> String {
        "BAR \(b.index) \(b.kind == .io ? "io" : "mem") 0x\(String(b.size, radix: 16)) \(b.is64Bit ? "64bit" : "32bit")"
            + (b.isPrefetchable ? " prefetch" : "")
    }

    /// The line(s) of one event: one line, except a CPU sync with data (plus its `DATA` lines).
    public static func lines(of event: TraceEvent) -> [String] {
        guard case .dmaSync(let point, let buffer, let offset, _, _, let data?) = event, point == .forCPU else {
            return [line(of: event)]
        }
        var out = [line(of: event)]
        var i = 0
        while i < data.count {
            let n = min(dataBytesPerLine, data.count - i)
            out.append("DATA buf\(buffer) 0x\(String(offset + i, radix: 16)) " + hexBytes(data[i..<(i + n)]))
            i += n
        }
        return out
    }

    /// How many lines ``lines(of:)`` produces, without building them.
    public static func lineCount(of event: TraceEvent) -> Int {
        if case .dmaSync(let point, _, _, _, _, let data?) = event, point == .forCPU {
            return 1 + (data.count + dataBytesPerLine - 1) / dataBytesPerLine
        }
        return 1
    }

    /// The first (or only) line of an event.
    public static func line(of event: TraceEvent) -> String {
        switch event {
        case .comment(let text):
            let t = sanitized(text)
            return t.isEmpty ? "#" : "# " + t
        case .mark(let text):
            let t = sanitized(text)
            return t.isEmpty ? "MARK" : "MARK " + t
        case .configRead(let offset, let width, let value, let count):
            return "CR\(width.bits) " + configOffset(offset) + " 0x" + hex(value & width.mask, width.bytes * 2) + repeatSuffix(count)
        case .configWrite(let offset, let width, let value):
            return "CW\(width.bits) " + configOffset(offset) + " 0x" + hex(value & width.mask, width.bytes * 2)
        case .read(let bar, let offset, let width, let value, let count):
            return "R\(width.bits) bar\(bar) " + barOffset(offset) + " 0x" + hex(value & width.mask, width.bytes * 2)
                + repeatSuffix(count)
        case .write(let bar, let offset, let width, let value):
            return "W\(width.bits) bar\(bar) " + barOffset(offset) + " " + value.text(width: width)
        case .dmaAllocate(let buffer, let size, let direction, let contiguous, let bus):
            return "DMA-ALLOC buf\(buffer) 0x\(String(size, radix: 16)) \(direction.rawValue) "
                + (contiguous ? "contiguous" : "sg") + busSuffix(bus)
        case .dmaLock(let buffer, let size, let direction, let bus):
            return "DMA-LOCK buf\(buffer) 0x\(String(size, radix: 16)) \(direction.rawValue)" + busSuffix(bus)
        case .dmaSync(let point, let buffer, let offset, let length, let crc, _):
            return "DMA-SYNC \(point.rawValue) buf\(buffer) 0x\(String(offset, radix: 16)) 0x\(String(length, radix: 16)) crc32=0x"
                + hex(crc, 8)
        case .dmaFree(let buffer): return "DMA-FREE buf\(buffer)"
        case .irqEnable(let kind, let vectors): return "IRQ-ENABLE \(kind.rawValue) \(vectors)"
        case .irq(let vector, let count): return "IRQ v\(vector) \(count)"
        case .irqTimeout(let vector): return "IRQ-TIMEOUT v\(vector)"
        case .irqUnmask: return "IRQ-UNMASK"
        case .irqDisable: return "IRQ-DISABLE"
        case .reset: return "RESET"
        }
    }

    static func configOffset(_ o: Int) -> String { "0x" + hex(o, 3) }
    static func barOffset(_ o: Int) -> String { "0x" + hex(o, 4) }
    static func repeatSuffix(_ n: Int) -> String { n > 1 ? " x\(n)" : "" }

    static func busSuffix(_ bus: [DMASegment]?) -> String {
        guard let bus, !bus.isEmpty else { return "" }
        return " bus=" + bus.map { "0x\(String($0.busAddress, radix: 16))/0x\(String($0.length, radix: 16))" }.joined(separator: ",")
    }

    static func hexBytes(_ bytes: ArraySlice<UInt8>) -> String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Free text with line breaks and other control characters turned into spaces, so a
    /// comment or mark stays on one line.
    static func sanitized(_ text: String) -> String {
        String(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : Character($0) }).trimmingSpaces()
    }
}

extension Trace {
    /// The trace in its text form (see ``TraceFormat``).
    public func render() -> String { TraceFormat.render(self) }

    /// Parses a trace from its text form, throwing ``BusmasterError/traceFormat(file:line:message:)``
    /// with the 1-based line of the first problem.
    public static func parse(_ text: String, fileName: String = "<trace>") throws -> Trace {
        try TraceParser(fileName: fileName).parse(text)
    }

    /// Reads and parses a trace file.
    public static func load(path: String) throws -> Trace {
        try parse(TextFile.read(path: path, what: "trace file"), fileName: path)
    }

    /// Writes the trace's text form to `path` (replacing the file).
    public func write(to path: String) throws {
        try TextFile.write(render(), to: path, what: "trace file")
    }
}
