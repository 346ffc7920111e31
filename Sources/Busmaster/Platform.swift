/// A source of PCI devices: the Linux host, a simulated board, or a trace.
public protocol PCIPlatform: AnyObject, Sendable {
    /// A short name ("linux", "simulation", "replay", "dump").
    var name: String { get }
    /// Every device the platform can see, sorted by address.
    func devices() throws -> [PCIDeviceInfo]
    /// Opens the device at `address` for driving.
    func open(_ address: PCIAddress) throws -> PCIDevice
}

extension PCIPlatform {
    /// Devices matching `selector`.
    public func devices(matching selector: DeviceSelector) throws -> [PCIDeviceInfo] {
        try devices().filter { selector.matches($0) }
    }

    /// The one device matching `selector`; throws when none or several match.
    public func device(matching selector: DeviceSelector) throws -> PCIDeviceInfo {
        let found = try devices(matching: selector)
        guard let first = found.first else { throw BusmasterError.noSuchDevice("'\(selector)' on \(name)") }
        guard found.count == 1 else {
            throw BusmasterError.invalidSelector(
                selector.description,
                reason: "it matches \(found.count) devices (\(found.map(\.address.description).joined(separator: ", "))); be more specific")
        }
        return first
    }

    /// Opens the one device matching `selector`.
    public func open(matching selector: DeviceSelector) throws -> PCIDevice {
        try open(device(matching: selector).address)
    }
}
