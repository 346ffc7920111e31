import Busmaster

/// What a device is bound to now.
public struct BindStatus: Sendable, Hashable {
    /// The device.
    public var address: PCIAddress
    /// Vendor ID.
    public var vendorID: UInt16
    /// Device ID.
    public var deviceID: UInt16
    /// Bound driver, nil when unbound.
    public var driver: String?
    /// `driver_override`, nil when not set.
    public var driverOverride: String?
    /// IOMMU group, nil without an IOMMU.
    public var iommuGroup: Int?
    /// `/dev/vfio/<group>` when it exists.
    public var vfioGroupNode: String?
    /// `/dev/uioN` when the device has a UIO node.
    public var uioNode: String?
}

/// The outcome of a bind or restore.
public struct BindResult: Sendable, Hashable {
    /// The device.
    public var address: PCIAddress
    /// The driver before the operation (record it to restore later).
    public var previousDriver: String?
    /// The driver now.
    public var driver: String?
    /// Whether anything changed (false when it was already bound as asked).
    public var changed: Bool
}

/// Binds devices to vfio-pci or uio_pci_generic through `driver_override` and
/// `drivers_probe`, and restores them, like `dpdk-devbind.py` but refusing devices the
/// host is using unless forced.
///
/// On failure nothing is left half-bound: `driver_override` is restored and the device is
/// returned to its original driver (the error says what happened). Every wait is bounded
/// by ``timeout``.
public struct DeviceBinder: Sendable {
    /// The drivers this helper binds to.
    public static let supportedDrivers = ["vfio-pci", "uio_pci_generic"]
    /// Roots of the sysfs/dev/proc tree.
    public var paths: LinuxPaths
    /// Bound for each wait (driver change, `/dev/vfio/N` creation, a blocking unbind).
    public var timeout: Duration

    /// Creates a binder.
    public init(paths: LinuxPaths = .system, timeout: Duration = .seconds(10)) {
        self.paths = paths
        self.timeout = timeout
    }

    /// The current binding of `address`.
    public func status(of address: PCIAddress) throws -> BindStatus {
        let dir = paths.device(address)
        guard SysFile.isDirectory(dir) else { throw BusmasterError.noSuchDevice("\(address) (no \(dir))") }
        let group = SysFile.linkBasename(dir + "/iommu_group").flatMap { Int($0) }
        let node = group.map { paths.vfioGroup($0) }.flatMap { SysFile.exists($0) ? $0 : nil }
        return BindStatus(
            address: address, vendorID: UInt16(truncatingIfNeeded: SysFile.readNumber(dir + "/vendor") ?? 0xFFFF),
            deviceID: UInt16(truncatingIfNeeded: SysFile.readNumber(dir + "/device") ?? 0xFFFF),
            driver: driver(of: address), driverOverride: override(of: address), iommuGroup: group, vfioGroupNode: node,
            uioNode: UIODevice.find(address, paths: paths)?.node)
    }

    /// The safety refusals for binding `address` to `driver` (empty = safe).
    public func refusals(for address: PCIAddress, driver: String) -> [BindRefusal] {
        DeviceUsage(paths: paths).refusals(for: address, driver: driver)
    }

    /// Binds `address` to `driver` ("vfio-pci" or "uio_pci_generic").
    ///
    /// - Parameters:
    ///   - expecting: when given, the device must match it (e.g. `10ee:903f`).
    ///   - force: bind despite forceable refusals (device in use, bridge, boot display).
    /// - Returns: the previous driver (keep it for ``restore(_:to:)``) and the new one.
    public func bind(_ address: PCIAddress, to driver: String, expecting: DeviceSelector? = nil, force: Bool = false) throws -> BindResult {
        guard Self.supportedDrivers.contains(driver) else {
            throw DeviceBindError.unsupportedDriver(driver, supported: Self.supportedDrivers)
        }
        let st = try status(of: address)
        if let sel = expecting {
            let info = try SysfsEnumerator(paths: paths).device(address)
            guard sel.matches(info) else {
                throw DeviceBindError.identityMismatch(address: address.description, expected: sel.description, actual: info.idString)
            }
        }
        if st.driver == driver {
            return BindResult(address: address, previousDriver: driver, driver: driver, changed: false)
        }
        guard SysFile.isDirectory(paths.pciDrivers + "/" + driver) else { throw DeviceBindError.driverNotLoaded(driver) }
        let reasons = refusals(for: address, driver: driver)
        if !reasons.isEmpty && !(force && reasons.allSatisfy(\.isForceable)) {
            throw DeviceBindError.refused(address: address.description, driver: driver, reasons: reasons)
        }
        var step = "setting driver_override"
        do {
            try SysFile.write(paths.device(address) + "/driver_override", driver + "\n")
            if st.driver != nil {
                step = "unbinding it from \(st.driver!)"
                try unbind(address)
            }
            step = "probing it with drivers_probe"
            try SysFile.write(paths.driversProbe, address.description + "\n")
            step = "waiting for \(driver) to take it"
            try waitUntil("\(address) to be bound to \(driver)", timeout: timeout, maxSleep: .milliseconds(20)) {
                self.driver(of: address) == driver
            }
            if driver == "vfio-pci", let g = st.iommuGroup {
                step = "waiting for \(paths.vfioGroup(g))"
                try waitUntil("\(paths.vfioGroup(g)) to appear", timeout: timeout, maxSleep: .milliseconds(20)) {
                    SysFile.exists(self.paths.vfioGroup(g))
                }
            }
            if driver == "uio_pci_generic" {
                step = "waiting for its /dev/uioN node"
                try waitUntil("the UIO node of \(address) to appear", timeout: timeout, maxSleep: .milliseconds(20)) {
                    UIODevice.find(address, paths: self.paths).map { SysFile.exists($0.node) } ?? false
                }
            }
        } catch {
            let outcome = rollback(address, original: st.driver, originalOverride: st.driverOverride)
            throw DeviceBindError.failed(address: address.description, step: step, cause: "\(error)", rollback: outcome)
        }
        return BindResult(address: address, previousDriver: st.driver, driver: driver, changed: true)
    }

    /// Returns `address` to `original` (nil = leave it unbound): clears `driver_override`,
    /// unbinds, and lets the kernel probe the original driver.
    public func restore(_ address: PCIAddress, to original: String?) throws -> BindResult {
        let before = try status(of: address)
        try SysFile.write(paths.device(address) + "/driver_override", "\n")
        if before.driver == original { return BindResult(address: address, previousDriver: before.driver, driver: original, changed: false) }
        if before.driver != nil { try unbind(address) }
        if let original {
            try SysFile.write(paths.driversProbe, address.description + "\n")
            try waitUntil("\(address) to be bound to \(original) again", timeout: timeout, maxSleep: .milliseconds(20)) {
                self.driver(of: address) == original
            }
        }
        return BindResult(address: address, previousDriver: before.driver, driver: driver(of: address), changed: true)
    }

    private func driver(of address: PCIAddress) -> String? { SysFile.linkBasename(paths.device(address) + "/driver") }

    private func override(of address: PCIAddress) -> String? {
        guard let t = SysFile.readTextIfPresent(paths.device(address) + "/driver_override"), !t.isEmpty, t != "(null)" else { return nil }
        return t
    }

    /// Writes the BDF to `driver/unbind`. The kernel blocks that write while a VFIO user
    /// holds the device, so it runs on a helper thread and is given up after ``timeout``.
    private func unbind(_ address: PCIAddress) throws {
        let path = paths.device(address) + "/driver/unbind"
        let done = ConditionLock()
        final class Outcome: @unchecked Sendable {
            var finished = false
            var error: (any Error)?
        }
        let outcome = Outcome()
        startThread(name: "bm-unbind") {
            var err: (any Error)?
            do { try SysFile.write(path, address.description + "\n") } catch { err = error }
            done.withLock {
                outcome.finished = true
                outcome.error = err
            }
            done.broadcast()
        }
        let deadline = Deadline(timeout: timeout)
        try done.withLock {
            while !outcome.finished && !deadline.hasExpired { done.wait(untilMonotonicNanos: deadline.monotonicNanos) }
            if !outcome.finished {
                throw BusmasterError.timeout(
                    "unbinding \(address) did not finish within \(timeout): a process still has it open (a VFIO user must close it)")
            }
            if let e = outcome.error { throw e }
        }
    }

    /// Puts the device back as it was; returns a sentence describing the result.
    private func rollback(_ address: PCIAddress, original: String?, originalOverride: String?) -> String {
        var notes: [String] = []
        if (try? SysFile.write(paths.device(address) + "/driver_override", (originalOverride ?? "") + "\n")) == nil {
            notes.append("could not restore driver_override")
        }
        let now = driver(of: address)
        if now != original {
            if now != nil, (try? unbind(address)) == nil { notes.append("could not unbind it from \(now!)") }
            if let original {
                _ = try? SysFile.write(paths.driversProbe, address.description + "\n")
                let back = (try? waitUntil("rebind", timeout: timeout, maxSleep: .milliseconds(20)) { self.driver(of: address) == original }) != nil
                if !back { notes.append("it did not return to \(original)") }
            }
        }
        let target = original.map { "its original driver \($0)" } ?? "no driver, as before"
        return notes.isEmpty
            ? "The device was returned to \(target)."
            : "Rollback was incomplete (\(notes.joined(separator: "; "))); check \(paths.device(address))/driver and driver_override."
    }
}
