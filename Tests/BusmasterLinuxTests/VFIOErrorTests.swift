import Busmaster
import BusmasterLinux
import Foundation
import Testing

/// Opening devices fails with messages that name the fix, on fake trees for each
/// prerequisite and on this machine (which has no VFIO and no IOMMU).
@Suite("VFIO and platform errors")
struct VFIOErrorTests {
    let x = PCIAddress(bus: 1, device: 0, function: 0)

    func tree(driver: String?, group: Int?, vfioNodes: [String] = []) throws -> FakeLinux {
        let t = try FakeLinux()
        try t.addDevice(
            "0000:01:00.0", config: makeConfig(vendor: 0x10EE, device: 0x903F, classCode: 0x070001),
            resources: [(0xFE00_0000, 0xFE00_FFFF, 0x40200)], driver: driver, group: group)
        for n in vfioNodes { try t.put("dev/vfio/" + n, "") }
        return t
    }

    func message(_ body: () throws -> Any) -> String {
        do {
            _ = try body()
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test("no IOMMU group: says the IOMMU is off, how to enable it, and the uio alternative")
    func noGroup() throws {
        let t = try tree(driver: "vfio-pci", group: nil)
        let m = message { try VFIOBackend.open(x, paths: t.paths) }
        #expect(m.contains("no IOMMU group") && m.contains("intel_iommu=on") && m.contains("uio_pci_generic") && m.contains("NO DMA isolation"))
    }

    @Test("no /dev/vfio/vfio: says which modules to load")
    func noVFIO() throws {
        let t = try tree(driver: "vfio-pci", group: 5)
        let m = message { try VFIOBackend.open(x, paths: t.paths) }
        #expect(m.contains("\(t.paths.dev)/vfio/vfio does not exist") && m.contains("modprobe vfio-pci vfio_iommu_type1"))
    }

    @Test("bound to another driver: says how to bind it")
    func notBound() throws {
        let t = try tree(driver: "xdma", group: 5, vfioNodes: ["vfio"])
        let m = message { try VFIOBackend.open(x, paths: t.paths) }
        #expect(m.contains("is bound to xdma, not to vfio-pci") && m.contains("pci-diag bind 0000:01:00.0 vfio-pci"))
    }

    @Test("a container node that is not VFIO is reported, not trusted")
    func fakeContainer() throws {
        let t = try tree(driver: "vfio-pci", group: 5, vfioNodes: ["vfio", "5"])
        let m = message { try VFIOBackend.open(x, paths: t.paths) }
        #expect(m.contains("is not a VFIO container device"))
    }

    @Test("a group node missing although bound: says to bind / mount devtmpfs")
    func groupNodeMissing() throws {
        let m = VFIODiagnostics.groupNodeMissing(path: "/dev/vfio/5", group: 5, address: x)
        #expect(m.contains("/dev/vfio/5 does not exist") && m.contains("pci-diag bind 0000:01:00.0 vfio-pci"))
    }

    @Test("group not viable: lists the other members with their drivers and how to bind them")
    func notViable() throws {
        let t = try tree(driver: "vfio-pci", group: 5)
        try t.addDevice("0000:01:00.1", config: makeConfig(vendor: 0x10EE, device: 0x903F, classCode: 0x070001), driver: "snd_hda_intel", group: 5)
        try t.addDevice("0000:00:1c.0", config: makeConfig(vendor: 0x8086, device: 0x1, classCode: 0x060400, headerType: 1), driver: "pcieport", group: 5)
        let members = VFIODiagnostics.groupMembers(5, paths: t.paths)
        #expect(members.count == 3)
        let m = VFIODiagnostics.groupNotViable(group: 5, address: x, members: members)
        #expect(m.contains("IOMMU group 5") && m.contains("0000:01:00.1 (driver snd_hda_intel)"))
        #expect(m.contains("pci-diag bind 0000:01:00.1 vfio-pci"))
        #expect(!m.contains("0000:00:1c.0"))  // a bridge on pcieport does not block viability
    }

    @Test("permission and memlock messages say how to fix them")
    func permissionAndMemlock() {
        let p = VFIODiagnostics.permissionDenied(path: "/dev/vfio/5")
        #expect(p.contains("run as root") && p.contains("udev"))
        let limit = MemlockLimit(soft: 8 << 20, hard: 8 << 20)
        let m = limit.pinFailureMessage(bytes: 16 << 20)
        #expect(m.contains("8192 KiB") && m.contains("ulimit -l") && m.contains("LimitMEMLOCK") && m.contains("limits.d"))
        #expect(MemlockLimit.current().soft == nil || MemlockLimit.current().soft! > 0)
    }

    @Test("LinuxPlatform picks the path from the driver and names the fix otherwise")
    func platformPaths() throws {
        let t = try tree(driver: "xdma", group: nil)
        let p = LinuxPlatform(paths: t.paths)
        let m = message { try p.open(x) }
        #expect(m.contains("is bound to xdma, not to vfio-pci or uio_pci_generic"))
        #expect(m.contains("pci-diag bind 0000:01:00.0 uio_pci_generic") && m.contains("NO DMA isolation"))
        let g = try tree(driver: nil, group: 4)
        #expect(message { try LinuxPlatform(paths: g.paths).open(x) }.contains("pci-diag bind 0000:01:00.0 vfio-pci"))
        #expect(try LinuxPlatform(paths: g.paths, allowUnboundSysfs: true).path(for: x) == .sysfs)
        let v = try tree(driver: "vfio-pci", group: 4)
        #expect(try LinuxPlatform(paths: v.paths).path(for: x) == .vfio)
        let u = try tree(driver: "uio_pci_generic", group: nil)
        #expect(try LinuxPlatform(paths: u.paths).path(for: x) == .sysfsUIO)
        #expect(message { try LinuxPlatform(paths: u.paths).open(x) }.contains("has no UIO node"))
    }

    @Test("this machine: opening a real device fails with the message that names the fix")
    func hostOpenFails() throws {
        let devices = try LinuxPlatform().devices()
        try #require(!devices.isEmpty, "this machine shows no PCI devices")
        let hasVFIO = FileManager.default.fileExists(atPath: "/dev/vfio/vfio")
        for d in devices where d.driver != "vfio-pci" && d.driver != "uio_pci_generic" {
            let m = message { try LinuxPlatform().open(d.address) }
            #expect(m.contains("pci-diag bind \(d.address)"), "\(m)")
            if d.address == devices.first?.address { print("example: open \(d.address): \(m)") }
            if d.iommuGroup == nil {
                let v = message { try VFIOBackend.open(d.address) }
                #expect(v.contains("no IOMMU group") && v.contains("intel_iommu=on"), "\(v)")
            } else if !hasVFIO {
                let v = message { try VFIOBackend.open(d.address) }
                #expect(v.contains("/dev/vfio/vfio does not exist") && v.contains("modprobe vfio-pci"), "\(v)")
            }
        }
    }
}
