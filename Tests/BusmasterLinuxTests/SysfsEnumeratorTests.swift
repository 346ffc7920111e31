import Busmaster
import BusmasterLibPCI
import BusmasterLinux
import Foundation
import Testing

/// The native sysfs enumerator over a fake tree, cross-checked against libpci reading the
/// same tree, and over this machine's real sysfs.
@Suite("sysfs enumeration")
struct SysfsEnumeratorTests {
    /// A tree with an XDMA-like endpoint (64-bit BARs, PCIe + MSI-X caps, 4096-byte config,
    /// bound to vfio-pci in group 7) and a bridge.
    static func tree() throws -> FakeLinux {
        let t = try FakeLinux()
        var x = makeConfig(vendor: 0x10EE, device: 0x903F, classCode: 0x070001, size: 4096)
        x[6] = 0x10  // status: capability list
        x[0x34] = 0x60
        x[0x60] = 0x10; x[0x61] = 0x9C  // PCIe → MSI-X
        x[0x9C] = 0x11; x[0x9D] = 0x00
        x[0x100] = 0x01; x[0x102] = 0x02  // AER v2, last
        x[0x10] = 0x04; x[0x18] = 0x04  // 64-bit BAR0/BAR2 type bits
        x[0x2C] = 0xEE; x[0x2D] = 0x10; x[0x2E] = 0x07
        try t.addDevice(
            "0000:01:00.0", config: x,
            resources: [
                (0xFE00_0000, 0xFE0F_FFFF, 0x0014_0204), (0, 0, 0), (0xFE10_0000, 0xFE10_FFFF, 0x0014_0204), (0, 0, 0),
                (0x38_0000_0000, 0x38_0FFF_FFFF, 0x0014_220C),
            ], driver: "vfio-pci", group: 7, irq: 10)
        let b = makeConfig(vendor: 0x8086, device: 0x1234, classCode: 0x060400, headerType: 1)
        try t.addDevice("0000:00:1c.0", config: b, resources: [(0xE000, 0xE0FF, 0x101)], driver: "pcieport", group: 3, irq: 0)
        return t
    }

    @Test("identity, BARs with sizes, capabilities, driver and IOMMU group from a fake tree")
    func fakeTree() throws {
        let t = try Self.tree()
        let devices = try SysfsEnumerator(paths: t.paths).devices()
        #expect(devices.map(\.address.description) == ["0000:00:1c.0", "0000:01:00.0"])
        let x = devices[1]
        #expect(x.idString == "10ee:903f" && x.classCode == 0x070001)
        #expect(x.subsystemVendorID == 0x10EE && x.subsystemID == 0x0007)
        #expect(x.bars == [
            BARInfo(index: 0, address: 0xFE00_0000, size: 1 << 20, is64Bit: true),
            BARInfo(index: 2, address: 0xFE10_0000, size: 64 << 10, is64Bit: true),
            BARInfo(index: 4, address: 0x38_0000_0000, size: 256 << 20, is64Bit: true, isPrefetchable: true),
        ])
        #expect(x.capabilities.map(\.id) == [0x10, 0x11, 0x0001])
        #expect(x.capabilities.last?.isExtended == true && x.capabilities.last?.version == 2)
        #expect(x.driver == "vfio-pci" && x.iommuGroup == 7 && x.irq == 10 && x.configSize == 4096)
        let bridge = devices[0]
        #expect(bridge.headerType == 1)
        #expect(bridge.bars == [BARInfo(index: 0, address: 0xE000, size: 256, kind: .io)])
        #expect(bridge.irq == nil)
    }

    @Test("libpci's sysfs method reads the same fake tree the same way")
    func libpciAgrees() throws {
        let t = try Self.tree()
        let native = try SysfsEnumerator(paths: t.paths).devices()
        let viaLibPCI = try LibPCISession(source: .sysfs(path: t.paths.sysfs + "/bus/pci")).devices(names: false)
        #expect(viaLibPCI.map(\.address) == native.map(\.address))
        for (a, b) in zip(native, viaLibPCI) {
            #expect(a.idString == b.idString)
            #expect(a.classCode == b.classCode)
            #expect(a.bars == b.bars, "\(a.address)")
            #expect(a.capabilities.map(\.id) == b.capabilities.map(\.id), "\(a.address)")
            #expect(a.driver == b.driver && a.iommuGroup == b.iommuGroup)
        }
    }

    @Test("a missing PCI directory is a clear error; an unknown device is noSuchDevice")
    func errors() throws {
        let empty = try TempDir()
        defer { empty.remove() }
        #expect {
            try SysfsEnumerator(paths: LinuxPaths(sysfs: empty.path)).devices()
        } throws: { e in
            "\(e)".contains("sysfs is not mounted")
        }
        let t = try Self.tree()
        #expect(throws: BusmasterError.noSuchDevice("0000:09:00.0 (no \(t.paths.pciDevices)/0000:09:00.0)")) {
            try SysfsEnumerator(paths: t.paths).device(PCIAddress(bus: 9, device: 0, function: 0))
        }
    }

    @Test("LinuxPlatform().devices() lists this machine's PCI functions")
    func host() throws {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/bus/pci/devices")) ?? []
        let devices = try LinuxPlatform().devices()
        #expect(devices.map(\.address.description) == names.sorted())
        try #require(!devices.isEmpty, "this machine shows no PCI devices in /sys/bus/pci/devices")
        for d in devices {
            let vendor = try String(contentsOfFile: "/sys/bus/pci/devices/\(d.address)/vendor", encoding: .utf8)
            #expect(UInt16(vendor.dropFirst(2).trimmingCharacters(in: .whitespacesAndNewlines), radix: 16) == d.vendorID)
        }
        // The same machine through libpci, with names.
        let viaLibPCI = try LibPCIPlatform().devices()
        #expect(viaLibPCI.map(\.idString) == devices.map(\.idString))
        #expect(viaLibPCI.map(\.bars) == devices.map(\.bars))
    }
}
