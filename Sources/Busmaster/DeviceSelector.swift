/// Selects PCI devices the way `lspci -s` and `lspci -d` do.
///
/// - Slot form (`-s`): `[[[[domain]:]bus]:][device][.[func]]`, each field hex or `*`
///   (omitted fields match anything), e.g. `01:00.0`, `0000:01:*.*`, `.1`, `3:`.
/// - ID form (`-d`): `[vendor]:[device][:class[:progif]]`, e.g. `10ee:903f`, `1234:`,
///   `:11e8`, `::0200`. A class of 4 hex digits matches base+sub class, 2 digits the base class.
public struct DeviceSelector: Sendable, Equatable, CustomStringConvertible {
    /// Domain to match, nil for any.
    public var domain: UInt32?
    /// Bus to match, nil for any.
    public var bus: UInt8?
    /// Device (slot) to match, nil for any.
    public var device: UInt8?
    /// Function to match, nil for any.
    public var function: UInt8?
    /// Vendor ID to match, nil for any.
    public var vendorID: UInt16?
    /// Device ID to match, nil for any.
    public var deviceID: UInt16?
    /// Class to match: the base class (1 byte) or base+sub class (2 bytes), see ``classDigits``.
    public var classCode: UInt16?
    /// 2 when ``classCode`` holds only the base class, 4 for base+subclass.
    public var classDigits: Int = 4
    /// Programming interface to match, nil for any.
    public var progIF: UInt8?
    private var text: String

    /// A selector matching every device.
    public static let any = DeviceSelector(text: "*")

    private init(text: String) { self.text = text }

    /// Parses a slot selector in `lspci -s` syntax.
    public init(slot: String) throws {
        self.init(text: slot)
        var rest = Substring(slot.trimmingSpaces())
        func field<T: FixedWidthInteger>(_ s: Substring, _ name: String, max: T) throws -> T? {
            if s.isEmpty || s == "*" { return nil }
            guard let v = T(s, radix: 16), v <= max else {
                throw BusmasterError.invalidSelector(slot, reason: "\(name) '\(s)' is not hex ≤ \(String(max, radix: 16))")
            }
            return v
        }
        var fnPart: Substring? = nil
        if let dot = rest.lastIndex(of: ".") {
            fnPart = rest[rest.index(after: dot)...]
            rest = rest[..<dot]
        }
        let colon = rest.split(separator: ":", omittingEmptySubsequences: false)
        guard colon.count <= 3 else {
            throw BusmasterError.invalidSelector(slot, reason: "too many ':'")
        }
        if let f = fnPart { function = try field(f, "function", max: UInt8(7)) }
        device = try field(colon[colon.count - 1], "device", max: UInt8(0x1f))
        if colon.count >= 2 { bus = try field(colon[colon.count - 2], "bus", max: UInt8(0xff)) }
        if colon.count == 3 { domain = try field(colon[0], "domain", max: UInt32.max) }
    }

    /// Parses an ID selector in `lspci -d` syntax.
    public init(ids: String) throws {
        self.init(text: ids)
        let parts = ids.trimmingSpaces().split(separator: ":", omittingEmptySubsequences: false)
        guard (2...4).contains(parts.count) else {
            throw BusmasterError.invalidSelector(ids, reason: "expected vendor:device[:class[:progif]]")
        }
        func id(_ s: Substring, _ name: String) throws -> UInt16? {
            if s.isEmpty || s == "*" { return nil }
            guard s.count <= 4, let v = UInt16(s, radix: 16) else {
                throw BusmasterError.invalidSelector(ids, reason: "\(name) '\(s)' is not 1-4 hex digits")
            }
            return v
        }
        vendorID = try id(parts[0], "vendor")
        deviceID = try id(parts[1], "device")
        if parts.count >= 3, !(parts[2].isEmpty || parts[2] == "*") {
            let c = parts[2]
            guard c.count == 2 || c.count == 4, let v = UInt16(c, radix: 16) else {
                throw BusmasterError.invalidSelector(ids, reason: "class '\(c)' must be 2 or 4 hex digits")
            }
            classCode = v
            classDigits = c.count
        }
        if parts.count == 4, !(parts[3].isEmpty || parts[3] == "*") {
            guard parts[3].count <= 2, let p = UInt8(parts[3], radix: 16) else {
                throw BusmasterError.invalidSelector(ids, reason: "prog-if '\(parts[3])' must be 1-2 hex digits")
            }
            progIF = p
        }
    }

    /// Parses either form: a string with a `.` or exactly matching `bb:dd.f` shapes is a slot,
    /// anything of the form `xxxx:yyyy` (4-digit IDs) is an ID selector.
    public init(parsing text: String) throws {
        let t = text.trimmingSpaces()
        if t.contains(".") || t == "*" {
            try self.init(slot: t)
        } else {
            try self.init(ids: t)
        }
    }

    /// Whether the device described by `info` matches every given field.
    public func matches(_ info: PCIDeviceInfo) -> Bool {
        let a = info.address
        if let d = domain, d != a.domain { return false }
        if let b = bus, b != a.bus { return false }
        if let d = device, d != a.device { return false }
        if let f = function, f != a.function { return false }
        if let v = vendorID, v != info.vendorID { return false }
        if let d = deviceID, d != info.deviceID { return false }
        if let c = classCode {
            let actual = classDigits == 2 ? UInt16(info.classCode >> 16) : UInt16(info.classCode >> 8)
            if c != actual { return false }
        }
        if let p = progIF, p != UInt8(info.classCode & 0xff) { return false }
        return true
    }

    public var description: String { text }
}
