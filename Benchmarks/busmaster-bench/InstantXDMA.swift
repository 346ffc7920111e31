import Busmaster
import CBusmasterSupport

#if canImport(Glibc)
    import Glibc
#endif

/// A cost probe, not a model: an XDMA-shaped device whose DMA BAR is plain memory and whose
/// engines finish instantly inside `idle()` (they walk the descriptor chain and write the
/// poll-mode writeback, without moving data). Register writes then cost what posted writes
/// cost, and the device's work is confined to `idle()`, which row 4 times and subtracts.
/// Bus addresses are host virtual addresses (nothing here is a real device).
final class InstantXDMABackend: PCIDeviceBackend, @unchecked Sendable {
    let bar = UnsafeMutableRawPointer.allocate(byteCount: 0x10000, alignment: 4096)
    var config = [UInt8](repeating: 0, count: 256)
    var deviceNanos: UInt64 = 0
    var idleCalls = 0
    var owned: [Int: UnsafeMutableRawPointer] = [:]
    var nextID = 1

    init() {
        memset(bar, 0, 0x10000)
        func put(_ off: Int, _ v: UInt32) { bar.storeBytes(of: v, toByteOffset: off, as: UInt32.self) }
        for (target, base) in [(0, 0x0000), (1, 0x1000), (2, 0x2000), (3, 0x3000), (4, 0x4000), (5, 0x5000), (6, 0x6000)] {
            put(base, 0x1FC0_0006 | UInt32(target) << 16)
        }
        put(0x004C, 0x0001_0140)
        put(0x104C, 0x0001_0140)
        put(0x3018, 2)  // 256-bit datapath
        config[0] = 0xEE; config[1] = 0x10; config[2] = 0x3F; config[3] = 0x90
        config[0x0B] = 0x05; config[0x0A] = 0x80
    }

    deinit {
        bar.deallocate()
        for (_, p) in owned { free(p) }
    }

    var info: PCIDeviceInfo {
        PCIDeviceInfo(address: PCIAddress(bus: 1, device: 0, function: 0), vendorID: 0x10EE, deviceID: 0x903F, classCode: 0x058000,
                      bars: [BARInfo(index: 0, address: 0xFE00_0000, size: 0x10000)])
    }
    var platformName: String { "instant-probe" }
    var configSize: Int { 256 }
    func readConfig(offset: Int, width: AccessWidth) throws -> UInt64 {
        var v: UInt64 = 0
        for k in 0..<width.bytes { v |= UInt64(config[offset + k]) << UInt64(8 * k) }
        return v
    }
    func writeConfig(offset: Int, width: AccessWidth, value: UInt64) throws {
        for k in 0..<width.bytes { config[offset + k] = UInt8(truncatingIfNeeded: value >> UInt64(8 * k)) }
    }
    func mapBAR(_ index: Int) throws -> MMIORegion { MMIORegion(bar: 0, mapping: bar, size: 0x10000) }
    func allocateDMA(size: Int, direction: DMADirection, constraints: DMAConstraints) throws -> DMAMapping {
        var p: UnsafeMutableRawPointer?
        posix_memalign(&p, 4096, (size + 4095) & ~4095)
        memset(p!, 0, size)
        let id = nextID
        nextID += 1
        owned[id] = p
        return DMAMapping(id: id, bytes: UnsafeMutableRawBufferPointer(start: p, count: size),
                          segments: [DMASegment(busAddress: UInt64(UInt(bitPattern: p)), length: size, bufferOffset: 0)],
                          direction: direction, isCallerMemory: false)
    }
    /// Caller memory: one segment per 4 KiB page, as pinned user pages come.
    func mapDMA(memory: UnsafeMutableRawBufferPointer, direction: DMADirection, constraints: DMAConstraints) throws -> DMAMapping {
        let id = nextID
        nextID += 1
        let base = UInt64(UInt(bitPattern: memory.baseAddress))
        let segments = stride(from: 0, to: memory.count, by: 4096).map {
            DMASegment(busAddress: base + UInt64($0), length: min(4096, memory.count - $0), bufferOffset: $0)
        }
        return DMAMapping(id: id, bytes: memory, segments: segments, direction: direction, isCallerMemory: true)
    }
    func releaseDMA(_ mapping: DMAMapping) { if let p = owned.removeValue(forKey: mapping.id) { free(p) } }
    func syncDMA(_ mapping: DMAMapping, at point: DMASyncPoint, range: Range<Int>) {}
    func interruptVectorCounts() -> [InterruptKind: Int] { [:] }
    func enableInterrupts(_ kind: InterruptKind, vectors: Int) throws -> [any InterruptSource] {
        throw BusmasterError.unsupported("the instant probe has no interrupts")
    }
    func disableInterrupts() {}
    func unmaskINTx() throws {}
    func reset() throws {}
    func close() {}

    /// The "device": completes any running H2C0/C2H0 chain at once.
    func idle() {
        let t0 = monotonicNanos()
        for (channel, sgdma) in [(0x0000, 0x4000), (0x1000, 0x5000)] {
            let control = bm_mmio_read32(bar + channel + 0x04)
            guard control & 1 != 0 else { continue }
            var desc = UInt64(bm_mmio_read32(bar + sgdma + 0x80)) | UInt64(bm_mmio_read32(bar + sgdma + 0x84)) << 32
            var count: UInt32 = 0
            while desc != 0 {
                let d = UnsafeRawPointer(bitPattern: UInt(desc))!
                let ctl = d.load(as: UInt32.self)
                count += 1
                if ctl & 1 != 0 { break }  // Stop
                desc = UInt64(d.load(fromByteOffset: 24, as: UInt32.self)) | UInt64(d.load(fromByteOffset: 28, as: UInt32.self)) << 32
            }
            let wb = UInt64(bm_mmio_read32(bar + channel + 0x88)) | UInt64(bm_mmio_read32(bar + channel + 0x8C)) << 32
            if control & (1 << 26) != 0, wb != 0 { bm_store_release32(UnsafeMutableRawPointer(bitPattern: UInt(wb))!, count) }
            bm_mmio_write32(bar + channel + 0x04, control & ~1)  // engine stopped
        }
        deviceNanos &+= monotonicNanos() &- t0
        idleCalls &+= 1
    }
}
