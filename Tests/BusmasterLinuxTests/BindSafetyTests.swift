import Busmaster
import BusmasterLinux
import Foundation
import Testing

/// The bind helper's refusals and its rollback, over fake sysfs trees.
@Suite("bind helper")
struct BindSafetyTests {
    /// 00:02.0 NIC (eth0 up), 00:03.0 NIC (eth1 down), 00:04.0 NVMe (partition mounted),
    /// 00:05.0 NVMe (disk held by dm-0), 00:06.0 boot VGA, 00:1c.0 bridge,
    /// 00:07.0 free endpoint sharing group 9 with 00:07.1 (bound to snd_hda_intel),
    /// 00:08.0 free endpoint without IOMMU group, 00:09.0 free endpoint alone in group 11.
    static func tree() throws -> FakeLinux {
        let t = try FakeLinux()
        let ep = makeConfig(vendor: 0x1AF4, device: 0x1041, classCode: 0x020000)
        try t.addDevice("0000:00:02.0", config: ep, driver: "virtio-pci", group: 2)
        try t.addNetInterface("eth0", of: "0000:00:02.0", up: true)
        try t.addDevice("0000:00:03.0", config: ep, driver: "virtio-pci", group: 3)
        try t.addNetInterface("eth1", of: "0000:00:03.0", up: false)
        let nvme = makeConfig(vendor: 0x144D, device: 0xA808, classCode: 0x010802)
        try t.addDevice("0000:00:04.0", config: nvme, driver: "nvme", group: 4)
        try t.addDisk("nvme0n1", of: "0000:00:04.0", partitions: ["nvme0n1p1", "nvme0n1p2"])
        try t.mount("/dev/nvme0n1p2", at: "/")
        try t.addDevice("0000:00:05.0", config: nvme, driver: "nvme", group: 5)
        try t.addDisk("nvme1n1", of: "0000:00:05.0", holders: ["nvme1n1": ["dm-0"]])
        try t.addDevice("0000:00:06.0", config: makeConfig(vendor: 0x1234, device: 0x1111, classCode: 0x030000), driver: "bochs-drm", group: 6)
        try t.put(t.deviceDir("0000:00:06.0") + "/boot_vga", "1\n")
        try t.addDevice("0000:00:1c.0", config: makeConfig(vendor: 0x8086, device: 0x1234, classCode: 0x060400, headerType: 1), driver: "pcieport", group: 8)
        let free = makeConfig(vendor: 0x10EE, device: 0x903F, classCode: 0x070001)
        try t.addDevice("0000:00:07.0", config: free, group: 9)
        try t.addDevice("0000:00:07.1", config: makeConfig(vendor: 0x8086, device: 0x2668, classCode: 0x040300), driver: "snd_hda_intel", group: 9)
        try t.addDevice("0000:00:08.0", config: free)
        try t.addDevice("0000:00:09.0", config: free, driver: "xdma", group: 11)
        try t.addDriver("vfio-pci")
        try t.addDriver("uio_pci_generic")
        return t
    }

    func a(_ s: String) -> PCIAddress { PCIAddress(s)! }

    @Test("devices in use are refused, each with its reason")
    func refusals() throws {
        let t = try Self.tree()
        let b = DeviceBinder(paths: t.paths)
        #expect(b.refusals(for: a("0000:00:02.0"), driver: "vfio-pci") == [.networkInterfaceUp(interface: "eth0")])
        #expect(b.refusals(for: a("0000:00:03.0"), driver: "vfio-pci").isEmpty)  // eth1 is down
        #expect(b.refusals(for: a("0000:00:04.0"), driver: "vfio-pci") == [.blockDeviceInUse(device: "nvme0n1p2", reason: "mounted at /")])
        #expect(b.refusals(for: a("0000:00:05.0"), driver: "vfio-pci") == [.blockDeviceInUse(device: "nvme1n1", reason: "held by dm-0")])
        #expect(b.refusals(for: a("0000:00:06.0"), driver: "vfio-pci") == [.bootVGA])
        #expect(b.refusals(for: a("0000:00:1c.0"), driver: "vfio-pci") == [.bridge(headerType: 1)])
        #expect(b.refusals(for: a("0000:00:07.0"), driver: "vfio-pci") == [.groupMembersBound(members: ["0000:00:07.1 (snd_hda_intel)"])])
        #expect(b.refusals(for: a("0000:00:07.0"), driver: "uio_pci_generic").isEmpty)
        #expect(b.refusals(for: a("0000:00:08.0"), driver: "vfio-pci") == [.noIOMMUGroup])
        #expect(b.refusals(for: a("0000:00:09.0"), driver: "vfio-pci").isEmpty)
    }

    @Test("bind refuses in-use devices and touches nothing")
    func bindRefused() throws {
        let t = try Self.tree()
        let b = DeviceBinder(paths: t.paths, timeout: .milliseconds(200))
        #expect {
            try b.bind(a("0000:00:02.0"), to: "vfio-pci")
        } throws: { e in
            guard case DeviceBindError.refused(_, _, let r) = e else { return false }
            return r == [.networkInterfaceUp(interface: "eth0")] && "\(e)".contains("--force") && "\(e)".contains("eth0 is up")
        }
        #expect(t.read(t.deviceDir("0000:00:02.0") + "/driver_override") == "(null)\n")
        #expect(t.read("sys/bus/pci/drivers_probe") == "")
        // A missing IOMMU group cannot be forced.
        #expect {
            try b.bind(a("0000:00:08.0"), to: "vfio-pci", force: true)
        } throws: { e in
            guard case DeviceBindError.refused(_, _, let r) = e else { return false }
            return r == [.noIOMMUGroup] && !"\(e)".contains("--force")
        }
    }

    @Test("unsupported targets, unloaded drivers and identity mismatches are refused")
    func badRequests() throws {
        let t = try Self.tree()
        let b = DeviceBinder(paths: t.paths, timeout: .milliseconds(200))
        #expect(throws: DeviceBindError.unsupportedDriver("nvme", supported: DeviceBinder.supportedDrivers)) {
            try b.bind(a("0000:00:09.0"), to: "nvme")
        }
        try FileManager.default.removeItem(atPath: t.root + "/sys/bus/pci/drivers/uio_pci_generic")
        #expect(throws: DeviceBindError.driverNotLoaded("uio_pci_generic")) { try b.bind(a("0000:00:09.0"), to: "uio_pci_generic") }
        #expect("\(DeviceBindError.driverNotLoaded("vfio-pci"))".contains("modprobe vfio-pci vfio_iommu_type1"))
        #expect(throws: DeviceBindError.identityMismatch(address: "0000:00:09.0", expected: "10b5:9656", actual: "10ee:903f")) {
            try b.bind(a("0000:00:09.0"), to: "vfio-pci", expecting: DeviceSelector(ids: "10b5:9656"))
        }
        #expect(throws: BusmasterError.self) { try b.bind(a("0000:00:0a.0"), to: "vfio-pci") }
    }

    @Test("already bound is a no-op")
    func idempotent() throws {
        let t = try Self.tree()
        try t.bind("0000:00:09.0", to: "vfio-pci")
        let r = try DeviceBinder(paths: t.paths).bind(a("0000:00:09.0"), to: "vfio-pci")
        #expect(!r.changed && r.driver == "vfio-pci")
    }

    @Test("when the kernel does not take the device, the bind times out and everything is rolled back")
    func rollback() throws {
        let t = try Self.tree()
        let b = DeviceBinder(paths: t.paths, timeout: .milliseconds(150))
        let dev = t.deviceDir("0000:00:09.0")
        let started = Date()
        #expect {
            try b.bind(a("0000:00:09.0"), to: "vfio-pci", expecting: DeviceSelector(ids: "10ee:903f"))
        } throws: { e in
            guard case DeviceBindError.failed(_, let step, _, _) = e else { return false }
            return step.contains("waiting for vfio-pci")
        }
        #expect(Date().timeIntervalSince(started) < 5)
        // The steps the fake kernel saw: override set then cleared, unbind from xdma, probe written.
        #expect(t.read(dev + "/driver_override") == "\n")
        #expect(t.read("sys/bus/pci/drivers/xdma/unbind")?.contains("0000:00:09.0") == true)
        #expect(t.read("sys/bus/pci/drivers_probe") == "0000:00:09.0\n")
        let st = try b.status(of: a("0000:00:09.0"))
        #expect(st.driver == "xdma" && st.driverOverride == nil && st.iommuGroup == 11)
    }

    @Test("status shows driver, override and group")
    func status() throws {
        let t = try Self.tree()
        try t.put(t.deviceDir("0000:00:07.0") + "/driver_override", "vfio-pci\n")
        let st = try DeviceBinder(paths: t.paths).status(of: a("0000:00:07.0"))
        #expect(st.vendorID == 0x10EE && st.deviceID == 0x903F)
        #expect(st.driver == nil && st.driverOverride == "vfio-pci" && st.iommuGroup == 9 && st.vfioGroupNode == nil)
    }

    @Test("this machine: the interface carrying the default route is refused")
    func hostNetworkInUse() throws {
        let routes = (try? String(contentsOfFile: "/proc/net/route", encoding: .utf8)) ?? ""
        let iface = routes.split(separator: "\n").dropFirst().map { $0.split(separator: "\t") }.first { $0.count > 1 && $0[1] == "00000000" }?.first
        guard let iface, let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/sys/class/net/\(iface)"),
            let bdf = target.split(separator: "/").compactMap({ PCIAddress(String($0)) }).last
        else {
            print("note: no PCI network device carries the default route here; host refusal check not applicable")
            return
        }
        #expect(DeviceBinder().refusals(for: bdf, driver: "vfio-pci").contains(.networkInterfaceUp(interface: String(iface))))
    }
}
