import Busmaster

/// A reason not to hand a device to a user-space driver.
public enum BindRefusal: Sendable, Hashable, CustomStringConvertible {
    /// The function is a bridge (header type ≠ 0): everything behind it would go away.
    case bridge(headerType: UInt8)
    /// The firmware's boot display (`boot_vga` = 1): the console would go dark.
    case bootVGA
    /// A network interface of the device is up.
    case networkInterfaceUp(interface: String)
    /// A block device of the device is mounted, used as swap, or held by another device (dm, md, LVM).
    case blockDeviceInUse(device: String, reason: String)
    /// Other members of the IOMMU group are bound to host drivers, so the group cannot become viable.
    case groupMembersBound(members: [String])
    /// No IOMMU group: vfio-pci cannot take the device (the IOMMU is off).
    case noIOMMUGroup

    /// Whether `force` may override the refusal (all but the missing IOMMU group, which
    /// makes a vfio-pci bind impossible rather than dangerous).
    public var isForceable: Bool { self != .noIOMMUGroup }

    public var description: String {
        switch self {
        case .bridge(let h): "it is a bridge (header type \(h)): the devices behind it would lose their driver"
        case .bootVGA: "it is the boot display (boot_vga = 1): the console would go dark"
        case .networkInterfaceUp(let i): "its network interface \(i) is up (take it down first: ip link set \(i) down)"
        case .blockDeviceInUse(let d, let r): "its block device \(d) is in use (\(r))"
        case .groupMembersBound(let m):
            "other devices of its IOMMU group are bound to host drivers (\(m.joined(separator: ", "))); bind them to vfio-pci too"
        case .noIOMMUGroup:
            "it has no IOMMU group (the IOMMU is off): vfio-pci cannot take it; enable the IOMMU (intel_iommu=on / amd_iommu=on) "
                + "or use uio_pci_generic (no DMA isolation)"
        }
    }
}

/// Failures of ``DeviceBinder``.
public enum DeviceBindError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Only these drivers are supported as bind targets.
    case unsupportedDriver(String, supported: [String])
    /// The target driver is not registered with the kernel.
    case driverNotLoaded(String)
    /// The device does not match the expected identity.
    case identityMismatch(address: String, expected: String, actual: String)
    /// The safety checks refused the bind.
    case refused(address: String, driver: String, reasons: [BindRefusal])
    /// A step failed; `rollback` says what the device was returned to.
    case failed(address: String, step: String, cause: String, rollback: String)

    public var description: String {
        switch self {
        case .unsupportedDriver(let d, let s):
            return "cannot bind to \(d): supported drivers are \(s.joined(separator: ", "))"
        case .driverNotLoaded(let d):
            let mod = d == "vfio-pci" ? "vfio-pci vfio_iommu_type1" : d
            return "the driver \(d) is not loaded: run `modprobe \(mod)`"
        case .identityMismatch(let a, let e, let actual):
            return "\(a) is \(actual), not \(e): refusing to bind a device other than the one expected"
        case .refused(let a, let d, let reasons):
            let forceable = reasons.allSatisfy(\.isForceable)
            return "refusing to bind \(a) to \(d): " + reasons.map(\.description).joined(separator: "; ")
                + (forceable ? ". Use --force to bind it anyway" : "")
        case .failed(let a, let step, let cause, let rollback):
            return "binding \(a) failed while \(step): \(cause). \(rollback)"
        }
    }
}
