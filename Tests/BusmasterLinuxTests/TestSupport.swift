import Busmaster
import BusmasterLinux
import Foundation

/// Paths of the repository's fixtures.
enum Fixture {
    /// `<package>/Fixtures/pci`.
    static let pciDirectory: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("Fixtures/pci").path
    }()

    /// `<package>/Fixtures/pci/<name>`.
    static func pci(_ name: String) -> String { pciDirectory + "/" + name }
}

/// A temporary directory, removed by ``remove()``.
struct TempDir {
    let path: String

    init() throws {
        var template = Array((NSTemporaryDirectory() + "/busmaster-linux-XXXXXX").utf8CString)
        guard let p = mkdtemp(&template) else { throw POSIXError(.EIO) }
        path = String(cString: p)
    }

    func file(_ name: String) -> String { path + "/" + name }

    func write(_ name: String, _ text: String) throws -> String {
        let p = file(name)
        try text.write(toFile: p, atomically: false, encoding: .utf8)
        return p
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// A fake Linux tree (sysfs, /dev, /proc) in a temporary directory, shaped like the real
/// one: device directories under `sys/devices/pci0000:00`, symlinks from
/// `sys/bus/pci/devices`, drivers, IOMMU groups, network interfaces and block devices.
final class FakeLinux {
    let dir: TempDir
    var root: String { dir.path }
    var paths: LinuxPaths { LinuxPaths(sysfs: root + "/sys", dev: root + "/dev", proc: root + "/proc") }
    private let fm = FileManager.default

    init() throws {
        dir = try TempDir()
        for d in [
            "sys/bus/pci/devices", "sys/bus/pci/drivers", "sys/devices/pci0000:00", "sys/kernel/iommu_groups", "sys/class/net",
            "sys/block", "dev", "proc",
        ] {
            try fm.createDirectory(atPath: root + "/" + d, withIntermediateDirectories: true)
        }
        try put("sys/bus/pci/drivers_probe", "")
        try put("proc/mounts", "proc /proc proc rw 0 0\n")
        try put("proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n")
    }

    deinit { dir.remove() }

    func put(_ rel: String, _ text: String) throws {
        let p = root + "/" + rel
        try fm.createDirectory(atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: p, atomically: false, encoding: .utf8)
    }

    func putBytes(_ rel: String, _ bytes: [UInt8]) throws {
        let p = root + "/" + rel
        try fm.createDirectory(atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: p))
    }

    func read(_ rel: String) -> String? { try? String(contentsOfFile: root + "/" + rel, encoding: .utf8) }

    func link(_ rel: String, to target: String) throws {
        let p = root + "/" + rel
        try fm.createDirectory(atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try? fm.removeItem(atPath: p)
        try fm.createSymbolicLink(atPath: p, withDestinationPath: target)
    }

    func deviceDir(_ bdf: String) -> String { "sys/devices/pci0000:00/" + bdf }

    /// Adds a function with `config` bytes and `resource` lines (start, end, flags) for BAR0–5 and the ROM.
    func addDevice(
        _ bdf: String, config: [UInt8], resources: [(UInt64, UInt64, UInt64)] = [], driver: String? = nil, group: Int? = nil,
        irq: Int = 11
    ) throws {
        let d = deviceDir(bdf)
        func w16(_ o: Int) -> UInt16 { UInt16(config[o]) | UInt16(config[o + 1]) << 8 }
        func hex(_ v: UInt64, _ n: Int) -> String { "0x" + String(repeating: "0", count: max(0, n - String(v, radix: 16).count)) + String(v, radix: 16) }
        try putBytes(d + "/config", config)
        try put(d + "/vendor", hex(UInt64(w16(0)), 4) + "\n")
        try put(d + "/device", hex(UInt64(w16(2)), 4) + "\n")
        try put(d + "/class", hex(UInt64(config[0x0B]) << 16 | UInt64(config[0x0A]) << 8 | UInt64(config[0x09]), 6) + "\n")
        try put(d + "/revision", hex(UInt64(config[8]), 2) + "\n")
        try put(d + "/subsystem_vendor", hex(UInt64(w16(0x2C)), 4) + "\n")
        try put(d + "/subsystem_device", hex(UInt64(w16(0x2E)), 4) + "\n")
        try put(d + "/irq", "\(irq)\n")
        try put(d + "/enable", "1\n")
        try put(d + "/driver_override", "(null)\n")
        var lines = resources.map { "\(hex($0.0, 16)) \(hex($0.1, 16)) \(hex($0.2, 16))" }
        while lines.count < 7 { lines.append("0x0000000000000000 0x0000000000000000 0x0000000000000000") }
        try put(d + "/resource", lines.joined(separator: "\n") + "\n")
        try link("sys/bus/pci/devices/" + bdf, to: "../../../devices/pci0000:00/" + bdf)
        if let driver { try bind(bdf, to: driver) }
        if let group {
            try fm.createDirectory(atPath: root + "/sys/kernel/iommu_groups/\(group)/devices", withIntermediateDirectories: true)
            try link("sys/kernel/iommu_groups/\(group)/devices/" + bdf, to: "../../../../devices/pci0000:00/" + bdf)
            try link(d + "/iommu_group", to: "../../../kernel/iommu_groups/\(group)")
        }
    }

    /// Registers driver `name` and binds `bdf` to it (the `driver` symlink).
    func bind(_ bdf: String, to name: String) throws {
        try addDriver(name)
        try link(deviceDir(bdf) + "/driver", to: "../../../bus/pci/drivers/" + name)
    }

    /// Registers a driver directory with its bind/unbind files.
    func addDriver(_ name: String) throws {
        try put("sys/bus/pci/drivers/\(name)/bind", "")
        try put("sys/bus/pci/drivers/\(name)/unbind", "")
    }

    /// Adds network interface `name` of `bdf`; `up` sets IFF_UP in `flags`.
    func addNetInterface(_ name: String, of bdf: String, up: Bool) throws {
        let d = deviceDir(bdf) + "/virtio0/net/" + name
        try put(d + "/flags", up ? "0x1003\n" : "0x1002\n")
        try link("sys/class/net/" + name, to: "../../devices/pci0000:00/\(bdf)/virtio0/net/\(name)")
    }

    /// Adds disk `name` of `bdf` with partitions and holders.
    func addDisk(_ name: String, of bdf: String, partitions: [String] = [], holders: [String: [String]] = [:]) throws {
        let d = deviceDir(bdf) + "/nvme/nvme0/" + name
        try fm.createDirectory(atPath: root + "/" + d + "/holders", withIntermediateDirectories: true)
        for p in partitions {
            try put(d + "/\(p)/partition", "1\n")
            try fm.createDirectory(atPath: root + "/" + d + "/\(p)/holders", withIntermediateDirectories: true)
        }
        for (part, hs) in holders {
            for h in hs { try put((part == name ? d : d + "/" + part) + "/holders/" + h, "") }
        }
        try link("sys/block/" + name, to: "../devices/pci0000:00/\(bdf)/nvme/nvme0/\(name)")
    }

    /// Appends a line to /proc/mounts.
    func mount(_ device: String, at point: String) throws {
        try put("proc/mounts", (read("proc/mounts") ?? "") + "\(device) \(point) ext4 rw 0 0\n")
    }
}

/// A type-0 config header with the given identity; capabilities can be added by the caller.
func makeConfig(vendor: UInt16, device: UInt16, classCode: UInt32, headerType: UInt8 = 0, size: Int = 256) -> [UInt8] {
    var c = [UInt8](repeating: 0, count: size)
    c[0] = UInt8(vendor & 0xFF); c[1] = UInt8(vendor >> 8)
    c[2] = UInt8(device & 0xFF); c[3] = UInt8(device >> 8)
    c[9] = UInt8(classCode & 0xFF); c[0x0A] = UInt8(classCode >> 8 & 0xFF); c[0x0B] = UInt8(classCode >> 16)
    c[0x0E] = headerType
    c[0x3D] = 1
    return c
}
