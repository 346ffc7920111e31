/// Parses the text form of a trace (see ``TraceFormat``), checking syntax and the
/// consistency a replay relies on: buffers are allocated before use, BARs are declared,
/// `DATA` lines complete the CPU sync they follow and match its CRC.
struct TraceParser {
    let fileName: String

    private struct PendingData {
        var eventIndex: Int
        var line: Int
        var buffer: Int
        var offset: Int
        var length: Int
        var crc: UInt32
        var bytes: [UInt8]
    }

    private struct State {
        var sawHeader = false
        var device: TraceDevice?
        var events: [TraceEvent] = []
        var lines: [Int] = []
        var liveBuffers: [Int: Int] = [:]  // id → size
        var pendingData: PendingData?
        var lastSyncWasDevice = false
        var interruptsEnabled = false
    }

    func parse(_ text: String) throws -> Trace {
        var st = State()
        var lineNo = 0
        for line in TextLines.split(text) {
            lineNo += 1
            if line.utf8.allSatisfy({ $0 == TextLines.space || $0 == TextLines.tab }) { continue }
            try parseLine(line, lineNo, &st)
        }
        if !st.sawHeader { throw fail(max(lineNo, 1), "empty file: a trace starts with '\(TraceFormat.header)'") }
        try finishData(&st)
        guard let device = st.device else {
            throw fail(max(lineNo, 1), "no DEVICE line (a trace names its device right after the header)")
        }
        return Trace(device: device, events: st.events, fileName: fileName, sourceLines: st.lines)
    }

    private func fail(_ line: Int, _ message: String) -> BusmasterError {
        .traceFormat(file: fileName, line: line, message: message)
    }

    private func parseLine(_ line: Substring, _ n: Int, _ st: inout State) throws {
        if !st.sawHeader {
            try parseHeader(line, n)
            st.sawHeader = true
            return
        }
        let trimmed = line.drop { $0 == " " || $0 == "\t" }
        if trimmed.first == "#" {
            try finishData(&st)
            var t = trimmed.dropFirst()
            if t.first == " " { t = t.dropFirst() }
            append(.comment(String(t).trimmingSpaces()), n, &st)
            return
        }
        let tokens = TextLines.tokens(line)
        let keyword = tokens[0]
        if keyword == "DATA" {
            try parseData(tokens, n, &st)
            return
        }
        try finishData(&st)
        st.lastSyncWasDevice = false
        switch keyword {
        case "DEVICE": try parseDevice(tokens, n, &st)
        case "BAR": try parseBAR(tokens, n, &st)
        case "MARK":
            var t = line.drop { $0 == " " || $0 == "\t" }.dropFirst(4)
            if t.first == " " || t.first == "\t" { t = t.dropFirst() }
            try event(.mark(String(t).trimmingSpaces()), n, &st)
        case "DMA-ALLOC", "DMA-LOCK": try parseDMAMap(tokens, n, &st)
        case "DMA-SYNC": try parseSync(tokens, n, &st)
        case "DMA-FREE":
            try count(tokens, 2, "DMA-FREE buf<N>", n)
            let b = try buffer(tokens[1], n, st)
            st.liveBuffers[b] = nil
            try event(.dmaFree(buffer: b), n, &st)
        case "IRQ-ENABLE":
            try count(tokens, 3, "IRQ-ENABLE <msix|msi|intx|polling> <vectors>", n)
            guard let kind = InterruptKind(rawValue: String(tokens[1])) else {
                throw fail(n, "unknown interrupt kind '\(tokens[1])' (expected msix, msi, intx or polling)")
            }
            let v = try decimal(tokens[2], "vector count", n)
            st.interruptsEnabled = true
            try event(.irqEnable(kind: kind, vectors: v), n, &st)
        case "IRQ":
            try count(tokens, 3, "IRQ v<vector> <count>", n)
            let v = try vector(tokens[1], n, st)
            let c = try decimal(tokens[2], "interrupt count", n)
            guard c >= 1 else { throw fail(n, "interrupt count must be ≥ 1 (a wait that got nothing is IRQ-TIMEOUT)") }
            try event(.irq(vector: v, count: UInt64(c)), n, &st)
        case "IRQ-TIMEOUT":
            try count(tokens, 2, "IRQ-TIMEOUT v<vector>", n)
            try event(.irqTimeout(vector: try vector(tokens[1], n, st)), n, &st)
        case "IRQ-UNMASK":
            try count(tokens, 1, "IRQ-UNMASK", n)
            try event(.irqUnmask, n, &st)
        case "IRQ-DISABLE":
            try count(tokens, 1, "IRQ-DISABLE", n)
            try event(.irqDisable, n, &st)
        case "RESET":
            try count(tokens, 1, "RESET", n)
            try event(.reset, n, &st)
        default:
            if let (isConfig, isWrite, width) = accessKeyword(keyword) {
                try parseAccess(tokens, isConfig: isConfig, isWrite: isWrite, width: width, n, &st)
            } else {
                throw fail(n, "unknown keyword '\(keyword)'")
            }
        }
    }

    // MARK: Header

    private func parseHeader(_ line: Substring, _ n: Int) throws {
        let prefix = "# busmaster-trace"
        guard line.hasPrefix(prefix) else {
            if line.hasPrefix("VERSION ") {
                throw fail(n, "this is a Linux mmiotrace, not a busmaster trace; convert it with MMIOTraceImporter (pci-diag trace import)")
            }
            throw fail(n, "not a busmaster trace: the first line must be '\(TraceFormat.header)'")
        }
        let v = line.dropFirst(prefix.count).trimmingSpaces()
        guard let version = Int(v) else { throw fail(n, "bad trace version '\(v)' in the header line") }
        guard version == TraceFormat.version else {
            throw fail(n, "trace format version \(version) is not supported (this build reads version \(TraceFormat.version))")
        }
    }

    private func parseDevice(_ t: [Substring], _ n: Int, _ st: inout State) throws {
        guard st.device == nil else { throw fail(n, "a second DEVICE line (a trace records one device)") }
        guard st.events.allSatisfy({ !$0.isDeviceEvent }) else { throw fail(n, "DEVICE must come before the first event") }
        try count(t, 3..., "DEVICE <dddd:bb:dd.f> <vendor:device> [class=hhhhhh] [rev=hh] [subsys=vvvv:dddd] [cfg=N]", n)
        let address: PCIAddress
        do { address = try PCIAddress(parsing: String(t[1])) } catch { throw fail(n, "\(error)") }
        let (vendor, device) = try idPair(t[2], "vendor:device", n)
        var d = TraceDevice(address: address, vendorID: vendor, deviceID: device)
        for kv in t.dropFirst(3) {
            let parts = kv.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { throw fail(n, "expected key=value in DEVICE line, got '\(kv)'") }
            let value = parts[1]
            switch parts[0] {
            case "class":
                guard value.count == 6, let c = UInt32(value, radix: 16) else {
                    throw fail(n, "class must be 6 hex digits (got '\(value)')")
                }
                d.classCode = c
            case "rev":
                guard (1...2).contains(value.count), let r = UInt8(value, radix: 16) else {
                    throw fail(n, "rev must be 2 hex digits (got '\(value)')")
                }
                d.revision = r
            case "subsys":
                let (v, i) = try idPair(value, "subsys", n)
                d.subsystemVendorID = v
                d.subsystemID = i
            case "cfg":
                guard let c = Int(value), [64, 256, 4096].contains(c) else {
                    throw fail(n, "cfg must be 64, 256 or 4096 (got '\(value)')")
                }
                d.configSize = c
            default:
                throw fail(n, "unknown DEVICE field '\(parts[0])' (known: class, rev, subsys, cfg)")
            }
        }
        st.device = d
    }

    private func parseBAR(_ t: [Substring], _ n: Int, _ st: inout State) throws {
        guard st.device != nil else { throw fail(n, "BAR before the DEVICE line") }
        guard st.events.allSatisfy({ !$0.isDeviceEvent }) else { throw fail(n, "BAR lines must come before the first event") }
        try count(t, 4...6, "BAR <0-5> <mem|io> <0xsize> [32bit|64bit] [prefetch]", n)
        guard let index = Int(t[1]), (0...5).contains(index) else { throw fail(n, "BAR index must be 0-5 (got '\(t[1])')") }
        guard st.device!.bar(index) == nil else { throw fail(n, "BAR \(index) is declared twice") }
        let kind: BARInfo.Kind
        switch t[2] {
        case "mem": kind = .memory
        case "io": kind = .io
        default: throw fail(n, "BAR kind must be 'mem' or 'io' (got '\(t[2])')")
        }
        let size = try hexNumber(t[3], "BAR size", n)
        var bar = TraceBAR(index: index, kind: kind, size: size)
        for flag in t.dropFirst(4) {
            switch flag {
            case "32bit": bar.is64Bit = false
            case "64bit": bar.is64Bit = true
            case "prefetch": bar.isPrefetchable = true
            default: throw fail(n, "unknown BAR flag '\(flag)' (expected 32bit, 64bit or prefetch)")
            }
        }
        st.device!.bars.append(bar)
        st.device!.bars.sort { $0.index < $1.index }
    }

    // MARK: Register accesses

    private func accessKeyword(_ k: Substring) -> (isConfig: Bool, isWrite: Bool, width: AccessWidth)? {
        var rest = k
        var isConfig = false
        if rest.hasPrefix("C") {
            isConfig = true
            rest = rest.dropFirst()
        }
        guard let first = rest.first, first == "R" || first == "W" else { return nil }
        guard let bits = Int(rest.dropFirst()), let width = AccessWidth(bits: bits), bits >= 8 else { return nil }
        return (isConfig, first == "W", width)
    }

    private func parseAccess(
        _ t: [Substring], isConfig: Bool, isWrite: Bool, width: AccessWidth, _ n: Int, _ st: inout State
    ) throws {
        let k = t[0]
        if isConfig {
            try count(t, isWrite ? 3...3 : 3...4, "\(k) <0xoffset> <0xvalue>" + (isWrite ? "" : " [xN]"), n)
            let offset = try offsetNumber(t[1], n)
            guard offset + width.bytes <= 4096 else { throw fail(n, "config offset 0x\(String(offset, radix: 16)) is beyond 4 KiB") }
            let value = try fitting(try hexNumber(t[2], "value", n), width, n)
            if isWrite {
                try event(.configWrite(offset: offset, width: width, value: value), n, &st)
            } else {
                let c = t.count == 4 ? try repeatCount(t[3], n) : 1
                try event(.configRead(offset: offset, width: width, value: value, count: c), n, &st)
            }
            return
        }
        try count(t, isWrite ? 4...4 : 4...5, "\(k) bar<N> <0xoffset> <value>" + (isWrite ? "" : " [xN]"), n)
        guard t[1].hasPrefix("bar"), let bar = Int(t[1].dropFirst(3)), (0...5).contains(bar) else {
            throw fail(n, "expected bar0...bar5, got '\(t[1])'")
        }
        guard let device = st.device else { throw fail(n, "event before the DEVICE line") }
        guard let b = device.bar(bar) else {
            let declared = device.bars.map { String($0.index) }.joined(separator: ", ")
            throw fail(n, "bar\(bar) is not declared (BAR lines declare: \(declared.isEmpty ? "none" : declared))")
        }
        let offset = try offsetNumber(t[2], n)
        if b.size > 0 && UInt64(offset + width.bytes) > b.size {
            throw fail(n, "offset 0x\(String(offset, radix: 16)) + \(width.bytes) bytes is outside bar\(bar) (size 0x\(String(b.size, radix: 16)))")
        }
        if isWrite {
            let value = try writeValue(t[3], width, n, st)
            try event(.write(bar: bar, offset: offset, width: width, value: value), n, &st)
        } else {
            let value = try fitting(try hexNumber(t[3], "value", n), width, n)
            let c = t.count == 5 ? try repeatCount(t[4], n) : 1
            try event(.read(bar: bar, offset: offset, width: width, value: value, count: c), n, &st)
        }
    }

    private func writeValue(_ s: Substring, _ width: AccessWidth, _ n: Int, _ st: State) throws -> TraceValue {
        if s.hasPrefix("0x") { return .literal(try fitting(try hexNumber(s, "value", n), width, n)) }
        var rest = s
        var part = TraceValue.AddressPart.full
        if rest.hasPrefix("lo:") {
            part = .low
            rest = rest.dropFirst(3)
        } else if rest.hasPrefix("hi:") {
            part = .high
            rest = rest.dropFirst(3)
        }
        let pieces = rest.split(separator: "+", maxSplits: 1)
        guard pieces.count == 2, pieces[0].hasPrefix("buf") else {
            throw fail(n, "bad value '\(s)' (expected 0x-hex, bufN+0xOFF, lo:bufN+0xOFF or hi:bufN+0xOFF)")
        }
        switch (part, width) {
        case (.full, .qword), (.low, .dword), (.high, .dword): break
        case (.full, _): throw fail(n, "a full bus address (\(s)) needs a 64-bit write; use lo:/hi: with 32-bit writes")
        default: throw fail(n, "lo:/hi: halves of a bus address need a 32-bit write (got \(width.bits)-bit)")
        }
        let b = try buffer(pieces[0], n, st)
        let offset = try offsetNumber(pieces[1], n)
        if let size = st.liveBuffers[b], offset >= size {
            throw fail(n, "offset 0x\(String(offset, radix: 16)) is outside buf\(b) (size 0x\(String(size, radix: 16)))")
        }
        return .busAddress(buffer: b, offset: offset, part: part)
    }

    // MARK: DMA

    private func parseDMAMap(_ t: [Substring], _ n: Int, _ st: inout State) throws {
        let isAlloc = t[0] == "DMA-ALLOC"
        let usage = isAlloc
            ? "DMA-ALLOC buf<N> <0xsize> <direction> <contiguous|sg> [bus=…]" : "DMA-LOCK buf<N> <0xsize> <direction> [bus=…]"
        try count(t, isAlloc ? 5...6 : 4...5, usage, n)
        let id = try bufferID(t[1], n)
        if st.liveBuffers[id] != nil { throw fail(n, "buf\(id) is already allocated and not freed") }
        let size64 = try hexNumber(t[2], "size", n)
        guard size64 > 0, size64 <= UInt64(Int.max) else { throw fail(n, "DMA buffer size must be > 0") }
        let size = Int(size64)
        guard let dir = DMADirection(rawValue: String(t[3])) else {
            throw fail(n, "unknown direction '\(t[3])' (expected to-device, from-device or bidirectional)")
        }
        var contiguous = false
        var next = 4
        if isAlloc {
            switch t[4] {
            case "contiguous": contiguous = true
            case "sg": contiguous = false
            default: throw fail(n, "expected 'contiguous' or 'sg', got '\(t[4])'")
            }
            next = 5
        }
        var bus: [DMASegment]?
        if t.count > next { bus = try busSegments(t[next], size: size, n) }
        st.liveBuffers[id] = size
        try event(
            isAlloc
                ? .dmaAllocate(buffer: id, size: size, direction: dir, contiguous: contiguous, bus: bus)
                : .dmaLock(buffer: id, size: size, direction: dir, bus: bus), n, &st)
    }

    private func busSegments(_ s: Substring, size: Int, _ n: Int) throws -> [DMASegment] {
        guard s.hasPrefix("bus=") else { throw fail(n, "unexpected '\(s)' (the optional last field is bus=0xADDR/0xLEN,…)") }
        var out: [DMASegment] = []
        var offset = 0
        for piece in s.dropFirst(4).split(separator: ",") {
            let al = piece.split(separator: "/")
            guard al.count == 2 else { throw fail(n, "bad bus segment '\(piece)' (expected 0xADDR/0xLEN)") }
            let addr = try hexNumber(al[0], "bus address", n)
            let len = try hexNumber(al[1], "segment length", n)
            guard len > 0, len <= UInt64(size - offset) else { throw fail(n, "bus segments add up to more than the buffer size") }
            out.append(DMASegment(busAddress: addr, length: Int(len), bufferOffset: offset))
            offset += Int(len)
        }
        guard offset == size else {
            throw fail(n, "bus segments cover 0x\(String(offset, radix: 16)) of 0x\(String(size, radix: 16)) bytes")
        }
        return out
    }

    private func parseSync(_ t: [Substring], _ n: Int, _ st: inout State) throws {
        try count(t, 6, "DMA-SYNC <device|cpu> buf<N> <0xoffset> <0xlength> crc32=0x<crc>", n)
        guard let point = DMASyncPoint(rawValue: String(t[1])) else {
            throw fail(n, "sync point must be 'device' or 'cpu' (got '\(t[1])')")
        }
        let b = try buffer(t[2], n, st)
        let offset = try offsetNumber(t[3], n)
        let length = try offsetNumber(t[4], n)
        if let size = st.liveBuffers[b], offset + length > size {
            throw fail(n, "range 0x\(String(offset, radix: 16))+0x\(String(length, radix: 16)) is outside buf\(b) (size 0x\(String(size, radix: 16)))")
        }
        guard t[5].hasPrefix("crc32=") else { throw fail(n, "expected crc32=0x…, got '\(t[5])'") }
        let crc64 = try hexNumber(t[5].dropFirst(6), "crc32", n)
        guard crc64 <= UInt64(UInt32.max) else { throw fail(n, "crc32 value does not fit 32 bits") }
        let crc = UInt32(crc64)
        try event(.dmaSync(point: point, buffer: b, offset: offset, length: length, crc: crc, data: nil), n, &st)
        if point == .forCPU {
            st.pendingData = PendingData(
                eventIndex: st.events.count - 1, line: n, buffer: b, offset: offset, length: length, crc: crc, bytes: [])
        } else {
            st.lastSyncWasDevice = true
        }
    }

    private func parseData(_ t: [Substring], _ n: Int, _ st: inout State) throws {
        guard var p = st.pendingData else {
            throw fail(
                n,
                st.lastSyncWasDevice
                    ? "DATA after a 'DMA-SYNC device' line (data is recorded only for cpu syncs)"
                    : "DATA without a preceding 'DMA-SYNC cpu' line")
        }
        try count(t, 4, "DATA buf<N> <0xoffset> <hex bytes>", n)
        let b = try bufferID(t[1], n)
        guard b == p.buffer else { throw fail(n, "DATA for buf\(b) follows a sync of buf\(p.buffer)") }
        let offset = try offsetNumber(t[2], n)
        let expected = p.offset + p.bytes.count
        guard offset == expected else {
            throw fail(n, "DATA offset 0x\(String(offset, radix: 16)) should be 0x\(String(expected, radix: 16)) (lines must be consecutive)")
        }
        let digits = Array(t[3].utf8)
        guard digits.count % 2 == 0 else { throw fail(n, "DATA has an odd number of hex digits (truncated line?)") }
        guard p.bytes.count + digits.count / 2 <= p.length else {
            throw fail(n, "DATA runs past the end of the synced range (0x\(String(p.length, radix: 16)) bytes)")
        }
        var i = 0
        while i < digits.count {
            guard let hi = hexDigit(digits[i]), let lo = hexDigit(digits[i + 1]) else {
                throw fail(n, "DATA contains a non-hex character")
            }
            p.bytes.append(hi << 4 | lo)
            i += 2
        }
        st.pendingData = p
    }

    private func hexDigit(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// Closes the DATA group of the last CPU sync: no data at all, or exactly its range.
    private func finishData(_ st: inout State) throws {
        guard let p = st.pendingData else { return }
        st.pendingData = nil
        if p.bytes.isEmpty { return }
        guard p.bytes.count == p.length else {
            throw fail(
                p.line,
                "the DATA lines after this sync cover 0x\(String(p.bytes.count, radix: 16)) of 0x\(String(p.length, radix: 16)) bytes (truncated file?)")
        }
        let crc = CRC32.checksum(p.bytes)
        guard crc == p.crc else {
            throw fail(p.line, "the DATA lines have crc32=0x\(hex(crc, 8)), but the sync line says 0x\(hex(p.crc, 8))")
        }
        guard case .dmaSync(let point, let b, let o, let l, let c, _) = st.events[p.eventIndex] else { return }
        st.events[p.eventIndex] = .dmaSync(point: point, buffer: b, offset: o, length: l, crc: c, data: p.bytes)
    }

    // MARK: Fields

    private func append(_ e: TraceEvent, _ n: Int, _ st: inout State) {
        st.events.append(e)
        st.lines.append(n)
    }

    private func event(_ e: TraceEvent, _ n: Int, _ st: inout State) throws {
        guard st.device != nil else { throw fail(n, "event before the DEVICE line") }
        append(e, n, &st)
    }

    private func count(_ t: [Substring], _ n: Int, _ usage: String, _ line: Int) throws {
        try count(t, n...n, usage, line)
    }

    private func count<R: RangeExpression>(_ t: [Substring], _ range: R, _ usage: String, _ line: Int) throws where R.Bound == Int {
        guard range.contains(t.count) else {
            let what = t.count < (range.relative(to: 0..<Int.max).lowerBound) ? "truncated line" : "too many fields"
            throw fail(line, "\(what): expected '\(usage)'")
        }
    }

    private func hexNumber(_ s: Substring, _ what: String, _ n: Int) throws -> UInt64 {
        guard s.hasPrefix("0x") || s.hasPrefix("0X"), s.count > 2, s.count <= 18, let v = UInt64(s.dropFirst(2), radix: 16) else {
            throw fail(n, "bad number '\(s)' for \(what) (expected 0x-prefixed hex)")
        }
        return v
    }

    private func offsetNumber(_ s: Substring, _ n: Int) throws -> Int {
        let v = try hexNumber(s, "offset", n)
        guard v <= UInt64(Int32.max) else { throw fail(n, "offset \(s) is too large") }
        return Int(v)
    }

    private func decimal(_ s: Substring, _ what: String, _ n: Int) throws -> Int {
        guard let v = Int(s), v >= 0 else { throw fail(n, "bad \(what) '\(s)' (expected a decimal number)") }
        return v
    }

    private func repeatCount(_ s: Substring, _ n: Int) throws -> Int {
        guard s.hasPrefix("x"), let v = Int(s.dropFirst()), v >= 1 else {
            throw fail(n, "bad repeat count '\(s)' (expected xN with N ≥ 1)")
        }
        return v
    }

    private func fitting(_ v: UInt64, _ width: AccessWidth, _ n: Int) throws -> UInt64 {
        guard v & ~width.mask == 0 else {
            throw fail(n, "value 0x\(String(v, radix: 16)) does not fit \(width.bits) bits")
        }
        return v
    }

    private func idPair(_ s: Substring, _ what: String, _ n: Int) throws -> (UInt16, UInt16) {
        let p = s.split(separator: ":", omittingEmptySubsequences: false)
        guard p.count == 2, p[0].count == 4, p[1].count == 4, let a = UInt16(p[0], radix: 16), let b = UInt16(p[1], radix: 16)
        else { throw fail(n, "\(what) must be vvvv:dddd in hex (got '\(s)')") }
        return (a, b)
    }

    private func bufferID(_ s: Substring, _ n: Int) throws -> Int {
        guard s.hasPrefix("buf"), let id = Int(s.dropFirst(3)), id >= 0 else {
            throw fail(n, "expected a buffer name bufN, got '\(s)'")
        }
        return id
    }

    /// A buffer name that must refer to a live (allocated, not freed) buffer.
    private func buffer(_ s: Substring, _ n: Int, _ st: State) throws -> Int {
        let id = try bufferID(s, n)
        guard st.liveBuffers[id] != nil else {
            throw fail(n, "buf\(id) is not allocated here (no DMA-ALLOC/DMA-LOCK before, or already freed)")
        }
        return id
    }

    private func vector(_ s: Substring, _ n: Int, _ st: State) throws -> Int {
        guard s.hasPrefix("v"), let v = Int(s.dropFirst()), v >= 0 else {
            throw fail(n, "expected an interrupt vector vN, got '\(s)'")
        }
        guard st.interruptsEnabled else { throw fail(n, "interrupt event before any IRQ-ENABLE") }
        return v
    }
}
