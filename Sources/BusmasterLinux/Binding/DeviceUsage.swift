import Busmaster

/// Finds out whether the host is using a device: network interfaces up, block devices
/// mounted, used as swap or held, boot display, bridges, IOMMU group members.
public struct DeviceUsage: Sendable {
    /// Roots of the inspected tree.
    public let paths: LinuxPaths

    /// `IFF_UP` in a network interface's `flags` attribute.
    static let interfaceUpFlag: UInt64 = 0x1

    /// Inspects the tree under `paths`.
    public init(paths: LinuxPaths = .system) { self.paths = paths }

    /// Every reason not to bind `address` to `driver`.
    public func refusals(for address: PCIAddress, driver: String) -> [BindRefusal] {
        var out: [BindRefusal] = []
        let dir = paths.device(address)
        let config = (try? SysFile.readBytes(dir + "/config", limit: 64)) ?? []
        let headerOffset = ConfigRegisters.headerType.offset
        let pciBridgeClass: UInt64 = 0x0604  // base class 06 (bridge), sub-class 04 (PCI-to-PCI)
        let header: UInt8 =
            config.count > headerOffset ? config[headerOffset] & 0x7F
            : (SysFile.readNumber(dir + "/class").map { $0 >> 8 == pciBridgeClass ? 1 : 0 } ?? 0)
        if header != 0 { out.append(.bridge(headerType: header)) }
        if SysFile.readTextIfPresent(dir + "/boot_vga") == "1" { out.append(.bootVGA) }
        out += networkInterfacesUp(of: address).map { .networkInterfaceUp(interface: $0) }
        out += blockDevicesInUse(of: address).map { .blockDeviceInUse(device: $0.0, reason: $0.1) }
        if driver == "vfio-pci" {
            if let group = SysFile.linkBasename(dir + "/iommu_group").flatMap({ Int($0) }) {
                let busy = VFIODiagnostics.groupMembers(group, paths: paths).filter { m in
                    m.0 != address && !(m.1 == nil || m.1 == "vfio-pci" || m.1 == "pci-stub" || m.1 == "pcieport")
                }
                if !busy.isEmpty { out.append(.groupMembersBound(members: busy.map { "\($0.0) (\($0.1 ?? "none"))" })) }
            } else {
                out.append(.noIOMMUGroup)
            }
        }
        return out
    }

    /// Whether a sysfs link target passes through the device's directory.
    private func belongs(_ target: String, to address: PCIAddress) -> Bool {
        target.contains("/" + address.description + "/")
    }

    /// Network interfaces of the device that are up (IFF_UP in `flags`).
    public func networkInterfacesUp(of address: PCIAddress) -> [String] {
        let dir = paths.sysfs + "/class/net"
        return (SysFile.list(dir) ?? []).filter { name in
            guard let target = SysFile.readLink(dir + "/" + name), belongs(target, to: address) else { return false }
            let flags = SysFile.readNumber(dir + "/" + name + "/flags") ?? 0
            return flags & Self.interfaceUpFlag != 0
        }
    }

    /// Block devices (disks and partitions) of the device that are mounted, swap, or held.
    public func blockDevicesInUse(of address: PCIAddress) -> [(String, String)] {
        let dir = paths.sysfs + "/block"
        let mounts = table(paths.proc + "/mounts")
        let swaps = table(paths.proc + "/swaps")
        var out: [(String, String)] = []
        for disk in SysFile.list(dir) ?? [] {
            guard let target = SysFile.readLink(dir + "/" + disk), belongs(target, to: address) else { continue }
            let diskDir = dir + "/" + disk
            let parts = (SysFile.list(diskDir) ?? []).filter { SysFile.exists(diskDir + "/" + $0 + "/partition") }
            for name in [disk] + parts {
                let sub = name == disk ? diskDir : diskDir + "/" + name
                var reasons: [String] = []
                let node = "/dev/" + name
                reasons += mounts.filter { $0.first == node }.compactMap { $0.count > 1 ? "mounted at \($0[1])" : nil }
                if swaps.contains(where: { $0.first == node }) { reasons.append("used as swap") }
                let holders = SysFile.list(sub + "/holders") ?? []
                if !holders.isEmpty { reasons.append("held by \(holders.joined(separator: ", "))") }
                if !reasons.isEmpty { out.append((name, reasons.joined(separator: ", "))) }
            }
        }
        return out
    }

    private func table(_ path: String) -> [[String]] {
        (SysFile.readTextIfPresent(path) ?? "").split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
    }
}
