/// A PCI function address: domain (segment), bus, device and function.
///
/// Parses and prints like lspci: `dddd:bb:dd.f`, or the short `bb:dd.f` form with
/// domain 0. All fields are hexadecimal.
public struct PCIAddress: Hashable, Comparable, Sendable, Codable, CustomStringConvertible,
    LosslessStringConvertible
{
    /// PCI domain (segment group), 0...0xFFFF_FFFF.
    public var domain: UInt32
    /// Bus number, 0...0xFF.
    public var bus: UInt8
    /// Device (slot) number, 0...0x1F.
    public var device: UInt8
    /// Function number, 0...7.
    public var function: UInt8

    /// Creates an address; traps if `device` > 0x1F or `function` > 7.
    public init(domain: UInt32 = 0, bus: UInt8, device: UInt8, function: UInt8) {
        precondition(device < 32, "PCI device number must be 0...0x1f")
        precondition(function < 8, "PCI function number must be 0...7")
        self.domain = domain
        self.bus = bus
        self.device = device
        self.function = function
    }

    /// Parses `dddd:bb:dd.f` or `bb:dd.f`; returns nil if malformed.
    public init?(_ description: String) {
        guard let a = try? PCIAddress(parsing: description) else { return nil }
        self = a
    }

    /// Parses `dddd:bb:dd.f` or `bb:dd.f`, throwing ``BusmasterError/invalidAddress(_:reason:)``.
    public init(parsing text: String) throws {
        let s = text.trimmingSpaces()
        let parts = s.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3 else {
            throw BusmasterError.invalidAddress(text, reason: "expected one or two ':'")
        }
        var domain: UInt32 = 0
        if parts.count == 3 {
            guard (1...8).contains(parts[0].count), let d = UInt32(parts[0], radix: 16) else {
                throw BusmasterError.invalidAddress(text, reason: "domain must be 1-8 hex digits")
            }
            domain = d
        }
        let busText = parts[parts.count - 2]
        guard (1...2).contains(busText.count), let bus = UInt8(busText, radix: 16) else {
            throw BusmasterError.invalidAddress(text, reason: "bus must be 1-2 hex digits")
        }
        let devFn = parts[parts.count - 1].split(separator: ".", omittingEmptySubsequences: false)
        guard devFn.count == 2 else {
            throw BusmasterError.invalidAddress(text, reason: "missing '.function'")
        }
        guard (1...2).contains(devFn[0].count), let dev = UInt8(devFn[0], radix: 16), dev < 32 else {
            throw BusmasterError.invalidAddress(text, reason: "device must be hex 0-1f")
        }
        guard devFn[1].count == 1, let fn = UInt8(devFn[1], radix: 16), fn < 8 else {
            throw BusmasterError.invalidAddress(text, reason: "function must be 0-7")
        }
        self.init(domain: domain, bus: bus, device: dev, function: fn)
    }

    /// The device/function byte as used in config cycles (`device << 3 | function`).
    public var devfn: UInt8 { device << 3 | function }

    /// The full form `dddd:bb:dd.f`, as sysfs and VFIO expect.
    public var description: String {
        hex(domain, 4) + ":" + hex(bus, 2) + ":" + hex(device, 2) + "." + String(function, radix: 16)
    }

    /// The short form `bb:dd.f` when the domain is 0, else the full form (like lspci).
    public var shortDescription: String {
        domain == 0 ? hex(bus, 2) + ":" + hex(device, 2) + "." + String(function, radix: 16) : description
    }

    public static func < (a: PCIAddress, b: PCIAddress) -> Bool {
        (a.domain, a.bus, a.device, a.function) < (b.domain, b.bus, b.device, b.function)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        self = try PCIAddress(parsing: c.decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

@inline(__always)
func hex<T: BinaryInteger>(_ v: T, _ digits: Int) -> String {
    let s = String(v, radix: 16)
    return s.count >= digits ? s : String(repeating: "0", count: digits - s.count) + s
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\n" || f == "\r" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\n" || l == "\r" { s.removeLast() }
        return String(s)
    }
}
