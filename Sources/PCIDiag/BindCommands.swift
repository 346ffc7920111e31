import ArgumentParser
import Busmaster
import BusmasterLinux
import DiagSupport
import Foundation

/// Where `bind` remembers a device's original driver for `restore`.
enum BindState {
    static let directory = "/run/busmaster"
    static func path(_ a: PCIAddress) -> String { "\(directory)/\(a.description).original-driver" }

    static func save(_ a: PCIAddress, original: String?) -> Bool {
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return FileManager.default.createFile(atPath: path(a), contents: Data(((original ?? "") + "\n").utf8))
    }

    static func load(_ a: PCIAddress) -> String?? {
        guard let t = try? String(contentsOfFile: path(a), encoding: .utf8) else { return nil }
        let name = t.trimmingCharacters(in: .whitespacesAndNewlines)
        return .some(name.isEmpty ? nil : name)
    }
}

extension PCIDiag {
    /// `pci-diag driver`.
    struct DriverStatus: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "driver", abstract: "Show the kernel driver, IOMMU group and device nodes of a device.")
        @OptionGroup var format: FormatOptions
        @Argument(help: "PCI address.") var address: String

        func run() throws {
            let a = try PCIAddress(parsing: address)
            let st = try DeviceBinder().status(of: a)
            if format.json {
                try DiagOutput.json(BindStatusJSON(st))
                return
            }
            print("\(a): driver \(st.driver ?? "none")" + (st.driverOverride.map { ", driver_override \($0)" } ?? ""))
            print("  IOMMU group: \(st.iommuGroup.map(String.init) ?? "none (IOMMU off or not present: only uio_pci_generic, without DMA isolation)")")
            if let v = st.vfioGroupNode { print("  VFIO node: \(v)") }
            if let u = st.uioNode { print("  UIO node: \(u)") }
            if let original = BindState.load(a) { print("  bound by pci-diag; original driver: \(original ?? "none")") }
        }
    }

    /// `pci-diag bind`.
    struct Bind: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Bind a device to vfio-pci or uio_pci_generic (like dpdk-devbind), refusing devices in use.",
            discussion: """
                Uses driver_override and drivers_probe (never new_id). Refuses network interfaces that are up,
                disks with mounted filesystems or holders, the boot display, bridges and devices whose IOMMU group
                has other members bound to host drivers, unless --force. The original driver is remembered in
                /run/busmaster for 'pci-diag restore'.
                """)
        @Argument(help: "PCI address.") var address: String
        @Argument(help: "vfio-pci or uio_pci_generic.") var driver: String = "vfio-pci"
        @Option(help: "Only bind if the device matches this ID selector (e.g. 10ee:903f).") var expect: String?
        @Flag(help: "Bind even though the device looks in use.") var force = false

        func run() throws {
            let a = try PCIAddress(parsing: address)
            let selector = try expect.map { try DeviceSelector(ids: $0) }
            let binder = DeviceBinder()
            let result = try binder.bind(a, to: driver, expecting: selector, force: force)
            if !result.changed {
                print("\(a) is already bound to \(driver)")
                return
            }
            let saved = BindState.load(a) != nil || BindState.save(a, original: result.previousDriver)
            print("\(a): \(result.previousDriver ?? "no driver") → \(driver)")
            if driver == "uio_pci_generic" { DiagOutput.warn(SysfsBackend.isolationWarning) }
            if !saved {
                print("restore later with: pci-diag restore \(a) --to \(result.previousDriver ?? "none")")
            }
        }
    }

    /// `pci-diag restore`.
    struct Restore: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Give a device back to its original kernel driver.")
        @Argument(help: "PCI address.") var address: String
        @Option(help: "Driver to return to ('none' to leave it unbound); default: the one 'pci-diag bind' recorded.") var to: String?

        func run() throws {
            let a = try PCIAddress(parsing: address)
            let original: String?
            if let t = to {
                original = t == "none" ? nil : t
            } else if let recorded = BindState.load(a) {
                original = recorded
            } else {
                throw ValidationError("no recorded original driver for \(a); name it with --to DRIVER (or --to none)")
            }
            let r = try DeviceBinder().restore(a, to: original)
            try? FileManager.default.removeItem(atPath: BindState.path(a))
            print("\(a): \(r.previousDriver ?? "no driver") → \(r.driver ?? "no driver")")
        }
    }
}

struct BindStatusJSON: Codable {
    var address: String
    var driver: String?
    var driverOverride: String?
    var iommuGroup: Int?
    var vfioNode: String?
    var uioNode: String?
    init(_ s: BindStatus) {
        address = s.address.description
        driver = s.driver
        driverOverride = s.driverOverride
        iommuGroup = s.iommuGroup
        vfioNode = s.vfioGroupNode
        uioNode = s.uioNode
    }
}
