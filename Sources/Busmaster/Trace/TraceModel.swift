/// A value written to a register: a plain number, or (part of) the bus address of a byte in
/// a DMA buffer, written symbolically so a trace recorded on one machine replays on another.
public enum TraceValue: Hashable, Sendable, CustomStringConvertible {
    /// Which part of a bus address a symbolic value stands for.
    public enum AddressPart: String, Hashable, Sendable {
        /// The whole 64-bit address (`buf1+0x40`).
        case full
        /// The low 32 bits (`lo:buf1+0x40`).
        case low
        /// The high 32 bits (`hi:buf1+0x40`).
        case high
    }

    /// A plain number.
    case literal(UInt64)
    /// The bus address of byte `offset` of DMA buffer `buffer` (or its low or high half).
    case busAddress(buffer: Int, offset: Int, part: AddressPart)

    /// Resolves the value given the bus address of a buffer byte (nil when the buffer is unknown).
    public func resolve(_ address: (_ buffer: Int, _ offset: Int) -> UInt64?) -> UInt64? {
        switch self {
        case .literal(let v): return v
        case .busAddress(let buffer, let offset, let part):
            guard let a = address(buffer, offset) else { return nil }
            switch part {
            case .full: return a
            case .low: return a & 0xFFFF_FFFF
            case .high: return a >> 32
            }
        }
    }

    /// The value as written in a trace line, padded to `width` for literals.
    public func text(width: AccessWidth) -> String {
        switch self {
        case .literal(let v): return "0x" + hex(v & width.mask, width.bytes * 2)
        case .busAddress(let buffer, let offset, let part):
            let prefix = part == .low ? "lo:" : part == .high ? "hi:" : ""
            return "\(prefix)buf\(buffer)+0x\(String(offset, radix: 16))"
        }
    }

    /// The value as in a 64-bit write.
    public var description: String { text(width: .qword) }
}

/// One line (or, for a CPU sync with data, one group of lines) of a register trace.
///
/// Reads carry a repeat count: consecutive identical reads are folded into one event
/// (`x57` in the text), so poll loops stay short and traces that differ only in how often
/// a register was polled compare equal.
public enum TraceEvent: Hashable, Sendable {
    /// A `#` comment (ignored by replay and diff).
    case comment(String)
    /// A `MARK` line: a named point in the session (ignored by replay, compared by diff).
    case mark(String)
    /// A config-space read (`CR16 0x004 0x0107`), repeated `count` times in a row.
    case configRead(offset: Int, width: AccessWidth, value: UInt64, count: Int)
    /// A config-space write (`CW16 0x004 0x0107`).
    case configWrite(offset: Int, width: AccessWidth, value: UInt64)
    /// A BAR read (`R32 bar0 0x0020 0x00000001 x57`), repeated `count` times in a row.
    case read(bar: Int, offset: Int, width: AccessWidth, value: UInt64, count: Int)
    /// A BAR write (`W32 bar0 0x0004 0x12345678`, `W32 bar0 0x0080 lo:buf1+0x40`).
    case write(bar: Int, offset: Int, width: AccessWidth, value: TraceValue)
    /// DMA memory allocated by the platform (`DMA-ALLOC buf1 0x1000 to-device contiguous`).
    /// `bus` holds the recorded bus segments when the recorder was asked to keep them.
    case dmaAllocate(buffer: Int, size: Int, direction: DMADirection, contiguous: Bool, bus: [DMASegment]?)
    /// Caller memory locked for scatter/gather DMA (`DMA-LOCK buf2 0x2000 from-device`).
    case dmaLock(buffer: Int, size: Int, direction: DMADirection, bus: [DMASegment]?)
    /// A sync point with the CRC-32 of the synced bytes; CPU syncs may carry the bytes
    /// themselves (`DATA` lines).
    case dmaSync(point: DMASyncPoint, buffer: Int, offset: Int, length: Int, crc: UInt32, data: [UInt8]?)
    /// A buffer released (`DMA-FREE buf1`).
    case dmaFree(buffer: Int)
    /// Interrupts enabled (`IRQ-ENABLE msi 1`).
    case irqEnable(kind: InterruptKind, vectors: Int)
    /// An interrupt wait that returned `count` signals on `vector` (`IRQ v0 1`).
    case irq(vector: Int, count: UInt64)
    /// An interrupt wait that timed out (`IRQ-TIMEOUT v0`).
    case irqTimeout(vector: Int)
    /// INTx unmasked after acknowledge (`IRQ-UNMASK`).
    case irqUnmask
    /// Interrupts disabled (`IRQ-DISABLE`).
    case irqDisable
    /// Function reset (`RESET`).
    case reset

    /// Whether the event is something a driver does (not a comment or mark).
    public var isDeviceEvent: Bool {
        switch self {
        case .comment, .mark: return false
        default: return true
        }
    }

    /// The repeat count of a folded read (1 for every other event).
    public var repeatCount: Int {
        switch self {
        case .read(_, _, _, _, let n), .configRead(_, _, _, let n): return n
        default: return 1
        }
    }

    /// The same event with its repeat count replaced (reads only; others unchanged).
    public func withRepeatCount(_ n: Int) -> TraceEvent {
        switch self {
        case .read(let bar, let offset, let width, let value, _):
            return .read(bar: bar, offset: offset, width: width, value: value, count: n)
        case .configRead(let offset, let width, let value, _):
            return .configRead(offset: offset, width: width, value: value, count: n)
        default: return self
        }
    }

    /// Whether `other` is the same poll as this event: the same read with the same value
    /// (any repeat count), or another timeout on the same vector.
    public func isSamePoll(as other: TraceEvent) -> Bool {
        switch (self, other) {
        case (.read, .read), (.configRead, .configRead):
            return withRepeatCount(1) == other.withRepeatCount(1)
        case (.irqTimeout(let a), .irqTimeout(let b)): return a == b
        default: return false
        }
    }
}

/// A BAR as a trace describes it: no bus address, so traces from different machines compare.
public struct TraceBAR: Hashable, Sendable {
    /// BAR index 0...5.
    public var index: Int
    /// Memory or I/O.
    public var kind: BARInfo.Kind
    /// Size in bytes (0 when unknown).
    public var size: UInt64
    /// A 64-bit memory BAR.
    public var is64Bit: Bool
    /// A prefetchable memory BAR.
    public var isPrefetchable: Bool

    /// Creates a BAR description.
    public init(index: Int, kind: BARInfo.Kind = .memory, size: UInt64, is64Bit: Bool = false, isPrefetchable: Bool = false) {
        self.index = index
        self.kind = kind
        self.size = size
        self.is64Bit = is64Bit
        self.isPrefetchable = isPrefetchable
    }

    /// The trace description of a platform BAR (its bus address is dropped).
    public init(_ bar: BARInfo) {
        self.init(index: bar.index, kind: bar.kind, size: bar.size, is64Bit: bar.is64Bit, isPrefetchable: bar.isPrefetchable)
    }
}

/// The device a trace was recorded on (the `DEVICE` and `BAR` lines).
public struct TraceDevice: Hashable, Sendable {
    /// Where the device sat when recorded.
    public var address: PCIAddress
    /// Vendor ID.
    public var vendorID: UInt16
    /// Device ID.
    public var deviceID: UInt16
    /// 24-bit class code, when known.
    public var classCode: UInt32?
    /// Revision ID, when known.
    public var revision: UInt8?
    /// Subsystem vendor ID, when known (set together with ``subsystemID``).
    public var subsystemVendorID: UInt16?
    /// Subsystem ID, when known.
    public var subsystemID: UInt16?
    /// Readable config-space size (written as `cfg=` when it is not the default 256).
    public var configSize: Int
    /// Implemented BARs in index order.
    public var bars: [TraceBAR]

    /// Creates a device description.
    public init(
        address: PCIAddress, vendorID: UInt16, deviceID: UInt16, classCode: UInt32? = nil, revision: UInt8? = nil,
        subsystemVendorID: UInt16? = nil, subsystemID: UInt16? = nil, configSize: Int = 256, bars: [TraceBAR] = []
    ) {
        self.address = address
        self.vendorID = vendorID
        self.deviceID = deviceID
        self.classCode = classCode
        self.revision = revision
        self.subsystemVendorID = subsystemVendorID
        self.subsystemID = subsystemID
        self.configSize = configSize
        self.bars = bars
    }

    /// The trace description of an open device.
    public init(info: PCIDeviceInfo, configSize: Int? = nil) {
        self.init(
            address: info.address, vendorID: info.vendorID, deviceID: info.deviceID, classCode: info.classCode,
            revision: info.revision, subsystemVendorID: info.subsystemVendorID, subsystemID: info.subsystemID,
            configSize: configSize ?? info.configSize, bars: info.bars.map(TraceBAR.init))
    }

    /// `vvvv:dddd`.
    public var idString: String { hex(vendorID, 4) + ":" + hex(deviceID, 4) }

    /// The BAR with `index`, if the trace declares it.
    public func bar(_ index: Int) -> TraceBAR? { bars.first { $0.index == index } }

    /// A device description for platforms serving the trace (BARs get no bus address).
    public var deviceInfo: PCIDeviceInfo {
        PCIDeviceInfo(
            address: address, vendorID: vendorID, deviceID: deviceID, classCode: classCode ?? 0, revision: revision ?? 0,
            subsystemVendorID: subsystemVendorID ?? 0xFFFF, subsystemID: subsystemID ?? 0xFFFF,
            bars: bars.map {
                BARInfo(index: $0.index, address: 0, size: $0.size, kind: $0.kind, is64Bit: $0.is64Bit, isPrefetchable: $0.isPrefetchable)
            }, configSize: configSize)
    }
}

/// A register trace: the device it was recorded on and the events, in order.
///
/// Traces render to and parse from the line-oriented text format described in
/// ``TraceFormat``. Two traces are equal (`==`) when their devices and events are; the file
/// name and source line numbers are provenance only.
public struct Trace: Sendable, Equatable {
    /// The device.
    public var device: TraceDevice
    /// The events in order.
    public var events: [TraceEvent]
    /// Where the trace came from (a path, or `<memory>`), used in error messages.
    public var fileName: String
    /// For parsed traces: the 1-based line of each event in its file (parallel to ``events``).
    public var sourceLines: [Int]?

    /// Creates a trace.
    public init(device: TraceDevice, events: [TraceEvent] = [], fileName: String = "<memory>", sourceLines: [Int]? = nil) {
        self.device = device
        self.events = events
        self.fileName = fileName
        self.sourceLines = sourceLines
    }

    /// Whether devices and events are equal (file name and line numbers are not compared).
    public static func == (a: Trace, b: Trace) -> Bool { a.device == b.device && a.events == b.events }

    /// The 1-based line of every event: its source line for parsed traces, else the line it
    /// has in ``render()``'s output.
    public func eventLineNumbers() -> [Int] {
        if let s = sourceLines, s.count == events.count { return s }
        var line = 3 + device.bars.count  // header, DEVICE, BARs; first event on the next line
        var out: [Int] = []
        out.reserveCapacity(events.count)
        for e in events {
            out.append(line)
            line += TraceFormat.lineCount(of: e)
        }
        return out
    }

    /// The number of events that are device events (not comments or marks).
    public var deviceEventCount: Int { events.reduce(0) { $0 + ($1.isDeviceEvent ? 1 : 0) } }
}
