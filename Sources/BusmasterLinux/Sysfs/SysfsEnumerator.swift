import Busmaster

/// Enumerates PCI functions from sysfs without libpci (so it links into static
/// executables): identity, class, BARs with sizes from `resource`, IRQ, capabilities from
/// the readable part of `config`, bound driver and IOMMU group.
///
/// Names from pci.ids are not looked up here; `BusmasterLibPCI`'s `PCINameDatabase` adds them.
/// As a non-root user sysfs shows only the first 64 bytes of config space, so the
/// capability list is empty then.
public struct SysfsEnumerator: Sendable {
    /// The roots the enumerator reads.
    public let paths: LinuxPaths

    /// Creates an enumerator over `paths.sysfs` (default `/sys`).
    public init(paths: LinuxPaths = .system) { self.paths = paths }

    /// Every PCI function, sorted by address.
    ///
    /// Throws when the PCI device directory cannot be listed (no sysfs, or not Linux).
    public func devices() throws -> [PCIDeviceInfo] {
        guard let names = SysFile.list(paths.pciDevices) else {
            throw BusmasterError.platform(
                "cannot list \(paths.pciDevices): sysfs is not mounted or this is not Linux (mount -t sysfs sysfs /sys)")
        }
        return names.compactMap { PCIAddress($0) }.compactMap { try? device($0) }.sorted { $0.address < $1.address }
    }

    /// The function at `address`.
    public func device(_ address: PCIAddress) throws -> PCIDeviceInfo {
        let dir = paths.device(address)
        guard SysFile.isDirectory(dir) else {
            throw BusmasterError.noSuchDevice("\(address) (no \(dir))")
        }
        let config = (try? SysFile.readBytes(dir + "/config", limit: 4096)) ?? []
        var info = PCIDeviceInfo.decode(address: address, config: config)
        // The text attributes work for every user and also when config reads fail.
        if let v = SysFile.readNumber(dir + "/vendor") { info.vendorID = UInt16(truncatingIfNeeded: v) }
        if let d = SysFile.readNumber(dir + "/device") { info.deviceID = UInt16(truncatingIfNeeded: d) }
        if let c = SysFile.readNumber(dir + "/class") { info.classCode = UInt32(truncatingIfNeeded: c) & 0xFF_FFFF }
        if let r = SysFile.readNumber(dir + "/revision") { info.revision = UInt8(truncatingIfNeeded: r) }
        if let sv = SysFile.readNumber(dir + "/subsystem_vendor") { info.subsystemVendorID = UInt16(truncatingIfNeeded: sv) }
        if let sd = SysFile.readNumber(dir + "/subsystem_device") { info.subsystemID = UInt16(truncatingIfNeeded: sd) }
        if config.count < 0x40 { info.capabilities = [] }
        if let irq = SysFile.readNumber(dir + "/irq") { info.irq = irq == 0 || irq == 0xFF ? nil : Int(irq) }
        if let text = SysFile.readTextIfPresent(dir + "/resource") {
            info.bars = Self.bars(from: SysfsResource.parse(text), headerType: info.headerType)
        }
        info.driver = SysFile.linkBasename(dir + "/driver")
        info.iommuGroup = SysFile.linkBasename(dir + "/iommu_group").flatMap { Int($0) }
        info.configSize = config.count
        return info
    }

    /// BAR descriptions from the first six `resource` lines (two for bridges).
    public static func bars(from resources: [SysfsResource], headerType: UInt8) -> [BARInfo] {
        let count = headerType == 0 ? 6 : headerType == 1 ? 2 : 0
        var bars: [BARInfo] = []
        for (i, r) in resources.prefix(count).enumerated() where r.isPresent {
            bars.append(
                BARInfo(
                    index: i, address: r.start, size: r.size, kind: r.isIO ? .io : .memory,
                    is64Bit: r.flags & SysfsResource.flagMem64 != 0,
                    isPrefetchable: r.flags & SysfsResource.flagPrefetch != 0))
        }
        return bars
    }
}
