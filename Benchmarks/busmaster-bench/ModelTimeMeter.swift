import Busmaster

/// A backend wrapper that measures wall time spent inside the simulated device (register
/// handling and stepped device work run from `idle()`), so a single-threaded stepped run can
/// report the driver's own cost with model time excluded.
final class ModelTimeMeter: PCIDeviceBackend, @unchecked Sendable {
    let inner: any PCIDeviceBackend
    var modelNanos: UInt64 = 0
    var registerAccesses = 0

    init(_ inner: any PCIDeviceBackend) { self.inner = inner }

    final class Handler: MMIOHandler, @unchecked Sendable {
        let region: MMIORegion
        unowned let meter: ModelTimeMeter
        init(_ region: MMIORegion, _ meter: ModelTimeMeter) {
            self.region = region
            self.meter = meter
        }
        func read(bar: Int, offset: Int, width: AccessWidth) -> UInt64 {
            let t0 = monotonicNanos()
            let v = region.read(width, at: offset)
            meter.modelNanos &+= monotonicNanos() &- t0
            meter.registerAccesses += 1
            return v
        }
        func write(bar: Int, offset: Int, width: AccessWidth, value: UInt64) {
            let t0 = monotonicNanos()
            region.write(width, value, at: offset)
            meter.modelNanos &+= monotonicNanos() &- t0
            meter.registerAccesses += 1
        }
    }

    var info: PCIDeviceInfo { inner.info }
    var platformName: String { inner.platformName + "+meter" }
    var configSize: Int { inner.configSize }
    func readConfig(offset: Int, width: AccessWidth) throws -> UInt64 { try inner.readConfig(offset: offset, width: width) }
    func writeConfig(offset: Int, width: AccessWidth, value: UInt64) throws { try inner.writeConfig(offset: offset, width: width, value: value) }
    func mapBAR(_ index: Int) throws -> MMIORegion {
        let r = try inner.mapBAR(index)
        return MMIORegion(bar: index, size: r.size, handler: Handler(r, self))
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
    func enableInterrupts(_ kind: InterruptKind, vectors: Int) throws -> [any InterruptSource] { try inner.enableInterrupts(kind, vectors: vectors) }
    func disableInterrupts() { inner.disableInterrupts() }
    func unmaskINTx() throws { try inner.unmaskINTx() }
    func reset() throws { try inner.reset() }
    func close() { inner.close() }
    func idle() {
        let t0 = monotonicNanos()
        inner.idle()
        modelNanos &+= monotonicNanos() &- t0
    }
}
