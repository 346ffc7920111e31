/// One line of a sysfs `resource` file: `start end flags` for BAR0–5, the ROM and
/// (for bridges and SR-IOV) further windows.
public struct SysfsResource: Sendable, Hashable {
    /// First bus address (0 when unassigned).
    public var start: UInt64
    /// Last bus address (inclusive; 0 when unassigned).
    public var end: UInt64
    /// Kernel `IORESOURCE_*` flags.
    public var flags: UInt64

    /// Kernel resource flag: I/O port space.
    public static let flagIO: UInt64 = 0x100
    /// Kernel resource flag: memory space.
    public static let flagMemory: UInt64 = 0x200
    /// Kernel resource flag: prefetchable memory.
    public static let flagPrefetch: UInt64 = 0x2000
    /// Kernel resource flag: 64-bit memory BAR.
    public static let flagMem64: UInt64 = 0x100000

    /// Creates an entry.
    public init(start: UInt64, end: UInt64, flags: UInt64) {
        self.start = start
        self.end = end
        self.flags = flags
    }

    /// Size in bytes (0 when the resource is absent).
    public var size: UInt64 { end > start || (end == start && start != 0) ? end &- start &+ 1 : 0 }
    /// Whether the kernel knows the resource at all.
    public var isPresent: Bool { flags & (Self.flagIO | Self.flagMemory) != 0 && size > 0 }
    /// Whether it is an I/O port range.
    public var isIO: Bool { flags & Self.flagIO != 0 }

    /// Parses a `resource` file; malformed lines are skipped.
    public static func parse(_ text: String) -> [SysfsResource] {
        text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count >= 3, let s = hex(f[0]), let e = hex(f[1]), let fl = hex(f[2]) else { return nil }
            return SysfsResource(start: s, end: e, flags: fl)
        }
    }

    private static func hex(_ s: Substring) -> UInt64? {
        let t = s.hasPrefix("0x") ? s.dropFirst(2) : s
        return UInt64(t, radix: 16)
    }
}
