import Busmaster
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// A device driven without an IOMMU: BARs mmapped from sysfs `resourceN`, config space
/// through the sysfs `config` file, INTx through UIO (`uio_pci_generic`), DMA memory from
/// u-dma-buf or hugepages with physical addresses from pagemap.
///
/// **This path has no DMA isolation**: a misprogrammed device can read or overwrite any
/// memory of the machine. Use it only where no IOMMU exists; prefer ``VFIOBackend``.
/// MSI and MSI-X are not available (UIO offers INTx only), and locking caller memory for
/// DMA is refused (ordinary pages can move).
public final class SysfsBackend: PCIDeviceBackend, @unchecked Sendable {
    public let info: PCIDeviceInfo
    public let platformName: String
    public let configSize: Int
    /// The UIO node used for INTx, when the device is bound to uio_pci_generic.
    public let uio: UIODevice?
    private let paths: LinuxPaths
    private let configFD: FileDescriptor
    private let configWritable: Bool
    private let dma: PhysicalDMAMemory
    private let lock = Lock()
    private var mappings: [Int: (UnsafeMutableRawPointer, Int)] = [:]
    private var ioPorts: [Int: any MMIOHandler] = [:]
    private var source: UIOInterruptSource?
    private var enabledDecode = false
    private var closed = false

    /// A warning to print when the path is chosen.
    public static let isolationWarning =
        "WARNING: sysfs/UIO access has NO DMA isolation: the device can read and write all memory of this machine. "
        + "Use VFIO (an IOMMU) wherever possible."

    /// Opens `address` through sysfs; with `requireUIO`, the device must be bound to
    /// uio_pci_generic (for interrupts and so that no other driver owns it).
    public static func open(_ address: PCIAddress, paths: LinuxPaths = .system, requireUIO: Bool = true) throws -> SysfsBackend {
        let info = try SysfsEnumerator(paths: paths).device(address)
        let uio = UIODevice.find(address, paths: paths)
        if requireUIO && uio == nil {
            throw BusmasterError.platform(
                "\(address) has no UIO node (driver: \(info.driver ?? "none")): bind it with `pci-diag bind \(address) uio_pci_generic`. "
                    + "Note that this path has no DMA isolation; with an IOMMU use vfio-pci instead")
        }
        if !requireUIO, let d = info.driver {
            throw BusmasterError.platform(
                "\(address) is bound to \(d), which owns it: unbind it first, or bind it to vfio-pci (`pci-diag bind \(address) vfio-pci`)")
        }
        return try SysfsBackend(info: info, uio: uio, paths: paths)
    }

    private init(info: PCIDeviceInfo, uio: UIODevice?, paths: LinuxPaths) throws {
        let configPath = paths.device(info.address) + "/config"
        var writable = true
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(FilePath(configPath), .readWrite, options: [.closeOnExec])
        } catch {
            writable = false
            fd = try SysFile.open(configPath, .readOnly)
        }
        var info = info
        configSize = info.configSize
        info.configSize = configSize
        self.info = info
        self.uio = uio
        self.paths = paths
        configFD = fd
        configWritable = writable
        platformName = uio == nil ? "sysfs" : "sysfs+uio"
        dma = PhysicalDMAMemory(paths: paths)
        // BARs read all-ones while decoding is off; an unbound device may be disabled.
        let enablePath = paths.device(info.address) + "/enable"
        if SysFile.readTextIfPresent(enablePath) == "0", (try? SysFile.write(enablePath, "1")) != nil { enabledDecode = true }
    }

    deinit { close() }

    public func readConfig(offset: Int, width: AccessWidth) throws -> UInt64 {
        var v: UInt64 = 0
        let n = withUnsafeMutableBytes(of: &v) { pread(configFD.rawValue, $0.baseAddress, width.bytes, off_t(offset)) }
        guard n == width.bytes else {
            throw BusmasterError.systemCall(
                "pread", errno: n < 0 ? errno : EIO, context: "reading config 0x\(String(offset, radix: 16)) of \(info.address)")
        }
        return v
    }

    public func writeConfig(offset: Int, width: AccessWidth, value: UInt64) throws {
        guard configWritable else {
            throw BusmasterError.platform(
                "config-space writes through sysfs need root (\(paths.device(info.address))/config is read-only for this user)")
        }
        var v = value
        let n = withUnsafeBytes(of: &v) { pwrite(configFD.rawValue, $0.baseAddress, width.bytes, off_t(offset)) }
        guard n == width.bytes else {
            throw BusmasterError.systemCall(
                "pwrite", errno: n < 0 ? errno : EIO,
                context: "writing config 0x\(String(offset, radix: 16)) of \(info.address) (\(SysfsBARMapping.lockdownHint(paths)))")
        }
    }

    public func mapBAR(_ index: Int) throws -> MMIORegion {
        try lock.withLock {
            guard !closed else { throw BusmasterError.unsupported("\(info.address) is closed") }
            guard let bar = info.bar(index), bar.size > 0 else {
                throw BusmasterError.barNotPresent(index: index, available: info.bars.map(\.index))
            }
            if bar.kind == .io {
                if ioPorts[index] == nil { ioPorts[index] = try SysfsBARMapping.ioHandler(bar, device: info.address, paths: paths) }
                return MMIORegion(bar: index, size: Int(bar.size), handler: ioPorts[index]!)
            }
            if mappings[index] == nil { mappings[index] = try SysfsBARMapping.map(bar, device: info.address, paths: paths) }
            return MMIORegion(bar: index, mapping: mappings[index]!.0, size: Int(bar.size))
        }
    }

    public func allocateDMA(size: Int, direction: DMADirection, constraints: DMAConstraints) throws -> DMAMapping {
        try dma.allocate(size: size, direction: direction, constraints: constraints)
    }

    public func mapDMA(memory: UnsafeMutableRawBufferPointer, direction: DMADirection, constraints: DMAConstraints) throws -> DMAMapping {
        throw BusmasterError.unsupported(
            "locking caller memory for DMA needs an IOMMU (vfio-pci): without one, ordinary pages can move while the device "
                + "uses them. Allocate the buffer with allocateDMABuffer instead (hugepages or u-dma-buf)")
    }

    public func releaseDMA(_ mapping: DMAMapping) { dma.release(mapping) }

    /// Coherent x86 memory: the core's fences order the accesses.
    public func syncDMA(_ mapping: DMAMapping, at point: DMASyncPoint, range: Range<Int>) {}

    public func interruptVectorCounts() -> [InterruptKind: Int] {
        uio != nil && info.interruptPin != 0 ? [.intx: 1] : [:]
    }

    public func enableInterrupts(_ kind: InterruptKind, vectors: Int) throws -> [any InterruptSource] {
        guard kind == .intx else {
            throw BusmasterError.interruptsUnavailable("uio_pci_generic delivers INTx only; \(kind) needs VFIO (vfio-pci and an IOMMU)")
        }
        guard let uio, info.interruptPin != 0 else {
            throw BusmasterError.interruptsUnavailable(
                uio == nil ? "\(info.address) is not bound to uio_pci_generic" : "\(info.address) has no interrupt pin")
        }
        disableInterrupts()
        let s = try UIOInterruptSource(uio)
        lock.withLock { source = s }
        try setINTxDisable(false)
        return [s]
    }

    public func disableInterrupts() {
        let s = lock.withLock { () -> UIOInterruptSource? in
            defer { source = nil }
            return source
        }
        guard let s else { return }
        s.cancel()
        try? setINTxDisable(true)
    }

    /// Clears COMMAND.INTx-disable, which uio_pci_generic set when the interrupt fired.
    public func unmaskINTx() throws { try setINTxDisable(false) }

    private func setINTxDisable(_ disable: Bool) throws {
        let reg = ConfigRegisters.command
        let bit = ConfigRegisters.commandINTxDisable
        let cmd = UInt16(truncatingIfNeeded: try readConfig(offset: reg.offset, width: reg.width))
        let new = bit.insert(disable ? 1 : 0, into: cmd)
        if new != cmd { try writeConfig(offset: reg.offset, width: reg.width, value: UInt64(new)) }
    }

    public func reset() throws {
        let path = paths.device(info.address) + "/reset"
        guard SysFile.exists(path) else {
            throw BusmasterError.unsupported("\(info.address) has no reset method (no \(path))")
        }
        try SysFile.write(path, "1")
    }

    /// Real hardware runs by itself.
    public func idle() {}

    /// Releases DMA memory, BAR mappings and files. Idempotent.
    public func close() {
        let maps: [(UnsafeMutableRawPointer, Int)]? = lock.withLock {
            if closed { return nil }
            closed = true
            defer {
                mappings = [:]
                ioPorts = [:]
            }
            return Array(mappings.values)
        }
        guard let maps else { return }
        disableInterrupts()
        dma.releaseAll()
        for (p, n) in maps { munmap(p, n) }
        if enabledDecode { try? SysFile.write(paths.device(info.address) + "/enable", "0") }
        try? configFD.close()
    }
}
