import Busmaster

/// Registers of the small memory-backed device the trace tests record and replay.
enum FakeRegs {
    static let id = Register<UInt32>("ID", offset: 0x00, .readOnly)
    static let scratch = Register<UInt32>("SCRATCH", offset: 0x04, .readWrite)
    static let status = Register<UInt32>("STATUS", offset: 0x08, .readOnly)
    static let srcLo = Register<UInt32>("SRC_LO", offset: 0x10, .readWrite)
    static let srcHi = Register<UInt32>("SRC_HI", offset: 0x14, .readWrite)
    static let dstLo = Register<UInt32>("DST_LO", offset: 0x18, .readWrite)
    static let dstHi = Register<UInt32>("DST_HI", offset: 0x1C, .readWrite)
    static let length = Register<UInt32>("LENGTH", offset: 0x20, .readWrite)
    static let command = Register<UInt32>("COMMAND", offset: 0x24, .writeOnly)
    static let address64 = Register<UInt64>("ADDR64", offset: 0x28, .readWrite)

    static let statusBusy = BitField<UInt32>("BUSY", shift: 0, .readOnly)
    static let commandStart = BitField<UInt32>("START", shift: 0, .writeOnly)

    static let idValue: UInt32 = 0x0100_00ED
    static let barSize = 0x1000
}

/// A device that copies `LENGTH` bytes from `SRC` to `DST` (bus addresses of its fake DMA
/// buffers) when `COMMAND.START` is written, stays busy for `busyPolls` reads of `STATUS`,
/// and signals MSI vector 0.
final class FakeTraceDevice: PCIDeviceBackend, MMIOHandler, @unchecked Sendable {
    let info: PCIDeviceInfo
    var platformName: String { "fake" }
    var configSize: Int { 256 }

    private let lock = Lock()
    private var config = [UInt8](repeating: 0, count: 256)
    private var regs: [Int: UInt64] = [:]
    private var busyLeft = 0
    let busyPolls: Int
    private var nextID = 1
    private var nextBus: UInt64
    private var mappings: [Int: DMAMapping] = [:]
    private var owned: [Int: UnsafeMutableRawBufferPointer] = [:]
    private var sources: [EventFDInterruptSource] = []
    private(set) var resets = 0

    /// - Parameters:
    ///   - busBase: first bus address handed out (above 4 GiB to exercise lo:/hi: pairs).
    ///   - busyPolls: STATUS reads that still show BUSY after a start.
    init(busBase: UInt64 = 0x2_0000_0000, busyPolls: Int = 5) {
        self.nextBus = busBase
        self.busyPolls = busyPolls
        info = PCIDeviceInfo(
            address: PCIAddress(bus: 0, device: 3, function: 0), vendorID: 0x1234, deviceID: 0x11E8, classCode: 0x00FF00,
            revision: 0x10, subsystemVendorID: 0x1AF4, subsystemID: 0x1100,
            bars: [BARInfo(index: 0, address: 0xFEA0_0000, size: UInt64(FakeRegs.barSize))])
        func put16(_ o: Int, _ v: UInt16) {
            config[o] = UInt8(v & 0xFF)
            config[o + 1] = UInt8(v >> 8)
        }
        put16(ConfigRegisters.vendorID.offset, 0x1234)
        put16(ConfigRegisters.deviceID.offset, 0x11E8)
    }

    deinit { for (_, m) in owned { m.deallocate() } }

    // Config space
    func readConfig(offset: Int, width: AccessWidth) throws -> UInt64 {
        lock.withLock { (0..<width.bytes).reduce(UInt64(0)) { $0 | UInt64(config[offset + $1]) << (8 * UInt64($1)) } }
    }

    func writeConfig(offset: Int, width: AccessWidth, value: UInt64) throws {
        lock.withLock { for i in 0..<width.bytes { config[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) } }
    }

    // BAR 0
    func mapBAR(_ index: Int) throws -> MMIORegion {
        guard index == 0 else { throw BusmasterError.barNotPresent(index: index, available: [0]) }
        return MMIORegion(bar: 0, size: FakeRegs.barSize, handler: self)
    }

    func read(bar: Int, offset: Int, width: AccessWidth) -> UInt64 {
        lock.withLock {
            switch offset {
            case FakeRegs.id.offset: return UInt64(FakeRegs.idValue)
            case FakeRegs.status.offset:
                if busyLeft > 0 {
                    busyLeft -= 1
                    return UInt64(FakeRegs.statusBusy.mask)
                }
                return 0
            default: return (regs[offset] ?? 0) & width.mask
            }
        }
    }

    func write(bar: Int, offset: Int, width: AccessWidth, value: UInt64) {
        let source: EventFDInterruptSource? = lock.withLock {
            regs[offset] = value
            guard offset == FakeRegs.command.offset, UInt32(value) & FakeRegs.commandStart.mask != 0 else { return nil }
            let src = (regs[FakeRegs.srcHi.offset] ?? 0) << 32 | (regs[FakeRegs.srcLo.offset] ?? 0)
            let dst = (regs[FakeRegs.dstHi.offset] ?? 0) << 32 | (regs[FakeRegs.dstLo.offset] ?? 0)
            let n = Int(regs[FakeRegs.length.offset] ?? 0)
            if let s = host(src, n), let d = host(dst, n) { d.copyMemory(from: UnsafeRawPointer(s), byteCount: n) }
            busyLeft = busyPolls
            return sources.first
        }
        source?.eventFD.signal()
    }

    private func host(_ bus: UInt64, _ n: Int) -> UnsafeMutableRawPointer? {
        for m in mappings.values {
            for s in m.segments where bus >= s.busAddress && bus + UInt64(n) <= s.busAddress + UInt64(s.length) {
                return m.bytes.baseAddress! + s.bufferOffset + Int(bus - s.busAddress)
            }
        }
        return nil
    }

    // DMA
    func allocateDMA(size: Int, direction: DMADirection, constraints: DMAConstraints) throws -> DMAMapping {
        let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 4096)
        bytes.initializeMemory(as: UInt8.self, repeating: 0)
        return lock.withLock {
            let m = DMAMapping(
                id: nextID, bytes: bytes, segments: [DMASegment(busAddress: nextBus, length: size, bufferOffset: 0)],
                direction: direction, isCallerMemory: false)
            nextID += 1
            nextBus += UInt64((size + 0xFFF) & ~0xFFF) + 0x1000
            mappings[m.id] = m
            owned[m.id] = bytes
            return m
        }
    }

    func mapDMA(memory: UnsafeMutableRawBufferPointer, direction: DMADirection, constraints: DMAConstraints) throws -> DMAMapping {
        lock.withLock {
            let m = DMAMapping(
                id: nextID, bytes: memory, segments: [DMASegment(busAddress: nextBus, length: memory.count, bufferOffset: 0)],
                direction: direction, isCallerMemory: true)
            nextID += 1
            nextBus += UInt64((memory.count + 0xFFF) & ~0xFFF) + 0x1000
            mappings[m.id] = m
            return m
        }
    }

    func releaseDMA(_ mapping: DMAMapping) {
        lock.withLock {
            mappings[mapping.id] = nil
            owned.removeValue(forKey: mapping.id)?.deallocate()
        }
    }

    func syncDMA(_ mapping: DMAMapping, at point: DMASyncPoint, range: Range<Int>) {}

    // Interrupts
    func interruptVectorCounts() -> [InterruptKind: Int] { [.msi: 1] }

    func enableInterrupts(_ kind: InterruptKind, vectors: Int) throws -> [any InterruptSource] {
        let s = try EventFDInterruptSource()
        lock.withLock { sources = [s] }
        return [s]
    }

    func disableInterrupts() { lock.withLock { sources = [] } }
    func unmaskINTx() throws {}
    func reset() throws { lock.withLock { resets += 1 } }
    func idle() {}
    func close() { lock.withLock { closeCount += 1 } }
    private var closeCount = 0
    /// How often the device was closed.
    var closes: Int { lock.withLock { closeCount } }
}

/// The little "driver" the record/replay tests run: identify, scratch write, DMA copy of
/// `payload` with an interrupt and a status poll, read back. Returns the copied bytes.
func runFakeDriver(_ dev: PCIDevice, payload: [UInt8]) throws -> [UInt8] {
    try dev.enable()
    let bar = try dev.bar(0)
    let id = bar.read(FakeRegs.id)
    guard id != UInt32.max else { throw BusmasterError.deviceLost("ID register reads all-ones") }
    guard id == FakeRegs.idValue else { throw BusmasterError.unsupported("unexpected ID 0x\(String(id, radix: 16))") }
    bar.write(FakeRegs.scratch, 0x1234_5678)
    let src = try dev.allocateDMABuffer(size: payload.count, direction: .toDevice)
    let dst = try dev.allocateDMABuffer(size: payload.count, direction: .fromDevice)
    src.bytes.copyBytes(from: payload)
    src.syncForDevice()
    let s = src.busAddress()
    let d = dst.busAddress()
    bar.write(FakeRegs.srcLo, UInt32(truncatingIfNeeded: s))
    bar.write(FakeRegs.srcHi, UInt32(s >> 32))
    bar.write(FakeRegs.dstLo, UInt32(truncatingIfNeeded: d))
    bar.write(FakeRegs.dstHi, UInt32(d >> 32))
    bar.write(FakeRegs.address64, dst.busAddress(at: 0x10))
    bar.write(FakeRegs.length, UInt32(payload.count))
    let irq = try dev.enableInterrupts(preferring: [.msi])
    bar.write(FakeRegs.command, FakeRegs.commandStart.mask)
    _ = try irq.wait(timeout: .seconds(2))
    try waitUntil("copy done", timeout: .seconds(2)) {
        let st = bar.read(FakeRegs.status)
        if st == UInt32.max { throw BusmasterError.deviceLost("STATUS reads all-ones") }
        return !FakeRegs.statusBusy.isSet(in: st)
    }
    dst.syncForCPU()
    let out = Array(dst.bytes)
    src.free()
    dst.free()
    irq.disable()
    dev.close()
    return out
}

/// Records `runFakeDriver` on a fresh fake device in memory.
func recordFakeSession(busBase: UInt64 = 0x2_0000_0000, busyPolls: Int = 5, payload: [UInt8] = fakePayload) throws -> Trace {
    let fake = FakeTraceDevice(busBase: busBase, busyPolls: busyPolls)
    let (dev, recorder) = TraceRecorder.recordInMemory(fake)
    let out = try runFakeDriver(dev, payload: payload)
    precondition(out == payload, "the fake device did not copy the payload")
    return recorder.recordedTrace!
}

let fakePayload: [UInt8] = (0..<48).map { UInt8(truncatingIfNeeded: $0 * 7 + 1) }

/// The 1-based line of the first line of `text` that starts with `prefix`.
func lineNumber(of prefix: String, in text: String) -> Int? {
    text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.hasPrefix(prefix) }.map { $0 + 1 }
}

/// The parts of the ``BusmasterError/traceFormat(file:line:message:)`` that `body` throws,
/// or nil when it throws nothing or another error.
func traceFormatFailure(_ body: () throws -> Void) -> (file: String, line: Int, message: String)? {
    do {
        try body()
        return nil
    } catch BusmasterError.traceFormat(let file, let line, let message) {
        return (file, line, message)
    } catch {
        return nil
    }
}
