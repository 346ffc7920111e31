import Busmaster
import BusmasterSimulation
import Synchronization
import Testing
import XilinxXDMA
import XilinxXDMAModel

/// One recorded register access.
struct MMIOAccess: Sendable, Hashable {
    var isWrite: Bool
    var bar: Int
    var offset: Int
    var value: UInt64
}

/// Forwards every access of a BAR to the real region and counts (and optionally logs) them.
final class CountingMMIO: MMIOHandler, @unchecked Sendable {
    let inner: MMIORegion
    private let readCount = Atomic<Int>(0)
    private let writeCount = Atomic<Int>(0)
    private let lock = Lock()
    private var log: [MMIOAccess] = []
    private var logging = false

    init(inner: MMIORegion) { self.inner = inner }

    func read(bar: Int, offset: Int, width: AccessWidth) -> UInt64 {
        readCount.add(1, ordering: .relaxed)
        let v = inner.read(width, at: offset)
        lock.withLock { if logging { log.append(MMIOAccess(isWrite: false, bar: bar, offset: offset, value: v)) } }
        return v
    }

    func write(bar: Int, offset: Int, width: AccessWidth, value: UInt64) {
        writeCount.add(1, ordering: .relaxed)
        lock.withLock { if logging { log.append(MMIOAccess(isWrite: true, bar: bar, offset: offset, value: value)) } }
        inner.write(width, value, at: offset)
    }

    var reads: Int { readCount.load(ordering: .relaxed) }
    var writes: Int { writeCount.load(ordering: .relaxed) }

    /// Starts a fresh log.
    func startLog() { lock.withLock { log = []; logging = true } }
    /// Stops logging and returns what was logged.
    func stopLog() -> [MMIOAccess] { lock.withLock { logging = false; return log } }
}

/// A platform backend that wraps another and routes BAR accesses through ``CountingMMIO``.
final class CountingBackend: PCIDeviceBackend, @unchecked Sendable {
    let inner: any PCIDeviceBackend
    private let lock = Lock()
    private var counters: [Int: CountingMMIO] = [:]

    init(inner: any PCIDeviceBackend) { self.inner = inner }

    func counter(bar: Int) -> CountingMMIO? { lock.withLock { counters[bar] } }

    var info: PCIDeviceInfo { inner.info }
    var platformName: String { "counting+" + inner.platformName }
    var configSize: Int { inner.configSize }
    func readConfig(offset: Int, width: AccessWidth) throws -> UInt64 { try inner.readConfig(offset: offset, width: width) }
    func writeConfig(offset: Int, width: AccessWidth, value: UInt64) throws { try inner.writeConfig(offset: offset, width: width, value: value) }
    func mapBAR(_ index: Int) throws -> MMIORegion {
        let real = try inner.mapBAR(index)
        let c = CountingMMIO(inner: real)
        lock.withLock { counters[index] = c }
        return MMIORegion(bar: index, size: real.size, handler: c)
    }
    func allocateDMA(size: Int, direction: DMADirection, constraints: DMAConstraints) throws -> DMAMapping {
        try inner.allocateDMA(size: size, direction: direction, constraints: constraints)
    }
    func mapDMA(memory: UnsafeMutableRawBufferPointer, direction: DMADirection, constraints: DMAConstraints) throws -> DMAMapping {
        try inner.mapDMA(memory: memory, direction: direction, constraints: constraints)
    }
    func releaseDMA(_ mapping: DMAMapping) { inner.releaseDMA(mapping) }
    func syncDMA(_ mapping: DMAMapping, at point: DMASyncPoint, range: Range<Int>) { inner.syncDMA(mapping, at: point, range: range) }
    func interruptVectorCounts() -> [InterruptKind: Int] { inner.interruptVectorCounts() }
    func enableInterrupts(_ kind: InterruptKind, vectors: Int) throws -> [any InterruptSource] {
        try inner.enableInterrupts(kind, vectors: vectors)
    }
    func disableInterrupts() { inner.disableInterrupts() }
    func unmaskINTx() throws { try inner.unmaskINTx() }
    func reset() throws { try inner.reset() }
    func close() { inner.close() }
    func idle() { inner.idle() }
}

/// A simulated XDMA card opened through the driver, with access counting.
final class XDMABench: @unchecked Sendable {
    let board: SimulatedPlatform
    let model: XDMAModel
    let original: PCIDevice
    let backend: CountingBackend
    let pci: PCIDevice
    let device: XDMADevice

    init(_ config: XDMAModelConfiguration = XDMAModelConfiguration(), options: XDMAOptions = XDMABench.fastOptions(),
         mode: SimulationMode = .threaded) throws {
        board = SimulatedPlatform(mode: mode)
        model = try XDMAModel(config)
        original = try board.open(board.plug(model))
        backend = CountingBackend(inner: original.backend)
        pci = PCIDevice(backend: backend)
        device = try XDMADevice.open(pci, options: options)
    }

    deinit {
        device.close()
        pci.close()
    }

    /// Options with short timeouts so fault tests finish quickly.
    static func fastOptions(interrupts: [InterruptKind] = [], cardMemorySize: UInt64? = nil, descriptors: Int = 256) -> XDMAOptions {
        XDMAOptions(
            cardMemorySize: cardMemorySize, interrupts: interrupts, timeout: .seconds(2), stopTimeout: .milliseconds(300),
            statusCheckInterval: .milliseconds(100), descriptorsPerEngine: descriptors)
    }

    /// Counter of the DMA BAR.
    var dma: CountingMMIO { backend.counter(bar: device.bars.dma)! }

    func h2c(_ ch: Int = 0) throws(XDMAError) -> XDMAEngine { try device.engine(.h2c, channel: ch) }
    func c2h(_ ch: Int = 0) throws(XDMAError) -> XDMAEngine { try device.engine(.c2h, channel: ch) }

    /// A DMA buffer filled with a seeded pattern.
    func buffer(_ size: Int, _ direction: DMADirection = .bidirectional, seed: UInt64 = 1, contiguous: Bool = false) throws -> DMABuffer {
        let b = try pci.allocateDMABuffer(size: size, direction: direction, constraints: DMAConstraints(alignment: 4096, contiguous: contiguous))
        var rng = SplitMix64(seed: seed)
        rng.fill(b.bytes)
        return b
    }
}

/// A small seeded generator (SplitMix64) so property tests repeat exactly.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func fill(_ b: UnsafeMutableRawBufferPointer) {
        var i = 0
        while i < b.count {
            let v = next()
            withUnsafeBytes(of: v) { src in
                let n = min(8, b.count - i)
                (b.baseAddress! + i).copyMemory(from: src.baseAddress!, byteCount: n)
            }
            i += 8
        }
    }
    mutating func bytes(_ n: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: n)
        out.withUnsafeMutableBytes { fill($0) }
        return out
    }
}

extension DMABuffer {
    /// A copy of `range` of the CPU view.
    func copy(_ range: Range<Int>) -> [UInt8] { Array(UnsafeRawBufferPointer(rebasing: bytes[range])) }
    /// Overwrites everything with `byte`.
    func clear(_ byte: UInt8 = 0) { bytes.initializeMemory(as: UInt8.self, repeating: byte) }
}

/// Catches an ``XDMAError`` from `body`, failing the test when nothing (or something else) is thrown.
func xdmaError<T>(_ body: () throws(XDMAError) -> T, sourceLocation: SourceLocation = #_sourceLocation) -> XDMAError? {
    do {
        _ = try body()
        Issue.record("expected an XDMAError, but the call succeeded", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}
