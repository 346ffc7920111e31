#if canImport(Glibc)
    import Glibc
#endif

/// The process's locked-memory limit (`RLIMIT_MEMLOCK`), which VFIO charges pinned DMA
/// pages against unless the process has `CAP_IPC_LOCK`.
public struct MemlockLimit: Sendable, Hashable {
    /// Soft limit in bytes (nil = unlimited).
    public var soft: UInt64?
    /// Hard limit in bytes (nil = unlimited).
    public var hard: UInt64?

    /// Creates a limit record.
    public init(soft: UInt64?, hard: UInt64?) {
        self.soft = soft
        self.hard = hard
    }

    /// Reads the current limit.
    public static func current() -> MemlockLimit {
        var rl = rlimit()
        let rc = getrlimit(__rlimit_resource_t(__RLIMIT_MEMLOCK.rawValue), &rl)
        guard rc == 0 else { return MemlockLimit(soft: nil, hard: nil) }
        // RLIM_INFINITY is all-ones (the macro does not import: it is written as -1).
        func v(_ x: rlim_t) -> UInt64? { x == rlim_t.max ? nil : UInt64(x) }
        return MemlockLimit(soft: v(rl.rlim_cur), hard: v(rl.rlim_max))
    }

    /// A limit as text: `8192 KiB` or `unlimited`.
    public static func format(_ v: UInt64?) -> String { v.map { "\($0 / 1024) KiB" } ?? "unlimited" }

    /// The message for a pin failure (ENOMEM from `VFIO_IOMMU_MAP_DMA` or `mlock`).
    public func pinFailureMessage(bytes: UInt64) -> String {
        "cannot pin \(bytes) bytes of DMA memory: the locked-memory limit (RLIMIT_MEMLOCK) is "
            + "\(Self.format(soft)) (hard \(Self.format(hard))), and pinned DMA pages count against it. Raise it: "
            + "`ulimit -l unlimited` in the shell that starts the program (root), `LimitMEMLOCK=infinity` in a systemd unit, "
            + "or a line `<user> - memlock unlimited` in /etc/security/limits.d/; or run with CAP_IPC_LOCK"
    }
}
