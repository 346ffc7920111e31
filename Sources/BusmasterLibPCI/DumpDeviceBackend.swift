import Busmaster

/// A read-only device over a config-space dump: config reads come from the dump; BARs,
/// DMA, interrupts and config writes do not exist (a dump holds no live device).
public final class DumpDeviceBackend: PCIDeviceBackend, @unchecked Sendable {
    public let info: PCIDeviceInfo
    public var platformName: String { "dump" }
    public var configSize: Int { config.count }
    private let config: [UInt8]

    /// A device with `info` and the dumped `config` bytes.
    public init(info: PCIDeviceInfo, config: [UInt8]) {
        self.info = info
        self.config = config
    }

    public func readConfig(offset: Int, width: AccessWidth) throws -> UInt64 {
        guard offset >= 0, offset + width.bytes <= config.count else {
            throw BusmasterError.offsetOutOfRange(region: "config space dump", offset: offset, width: width.bytes, size: config.count)
        }
        var v: UInt64 = 0
        for i in 0..<width.bytes { v |= UInt64(config[offset + i]) << UInt64(8 * i) }
        return v
    }

    public func writeConfig(offset: Int, width: AccessWidth, value: UInt64) throws {
        throw BusmasterError.unsupported("a config-space dump is read-only")
    }

    public func mapBAR(_ index: Int) throws -> MMIORegion {
        throw BusmasterError.unsupported("a config-space dump has no BAR memory (BAR \(index)); open the real device instead")
    }

    public func allocateDMA(size: Int, direction: DMADirection, constraints: DMAConstraints) throws -> DMAMapping {
        throw BusmasterError.unsupported("a config-space dump cannot do DMA")
    }

    public func mapDMA(memory: UnsafeMutableRawBufferPointer, direction: DMADirection, constraints: DMAConstraints) throws -> DMAMapping {
        throw BusmasterError.unsupported("a config-space dump cannot do DMA")
    }

    public func releaseDMA(_ mapping: DMAMapping) {}
    public func syncDMA(_ mapping: DMAMapping, at point: DMASyncPoint, range: Range<Int>) {}
    public func interruptVectorCounts() -> [InterruptKind: Int] { [:] }

    public func enableInterrupts(_ kind: InterruptKind, vectors: Int) throws -> [any InterruptSource] {
        throw BusmasterError.interruptsUnavailable("a config-space dump has no interrupts")
    }

    public func disableInterrupts() {}

    public func unmaskINTx() throws {
        throw BusmasterError.interruptsUnavailable("a config-space dump has no interrupts")
    }

    public func reset() throws { throw BusmasterError.unsupported("a config-space dump cannot be reset") }
    /// A dump has no device to advance.
    public func idle() {}

    public func close() {}
}
