import Busmaster
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// The UIO node of a device bound to `uio_pci_generic`.
public struct UIODevice: Sendable, Hashable {
    /// The N of `/dev/uioN`.
    public var number: Int
    /// `/dev/uioN`.
    public var node: String
    /// `/sys/bus/pci/devices/<bdf>/uio/uioN`.
    public var sysfsDirectory: String

    /// Describes a UIO node.
    public init(number: Int, node: String, sysfsDirectory: String) {
        self.number = number
        self.node = node
        self.sysfsDirectory = sysfsDirectory
    }

    /// The UIO device of `address`, or nil when it has none (not bound to a UIO driver).
    public static func find(_ address: PCIAddress, paths: LinuxPaths = .system) -> UIODevice? {
        let dir = paths.device(address) + "/uio"
        guard let name = SysFile.list(dir)?.first(where: { $0.hasPrefix("uio") }), let n = Int(name.dropFirst(3)) else { return nil }
        return UIODevice(number: n, node: paths.dev + "/" + name, sysfsDirectory: dir + "/" + name)
    }

    /// The kernel's cumulative interrupt count (`event` attribute), when readable.
    public var eventCount: UInt32? { SysFile.readNumber(sysfsDirectory + "/event").map { UInt32(truncatingIfNeeded: $0) } }
}

/// An ``InterruptSource`` over `/dev/uioN`: a 4-byte read returns the cumulative interrupt
/// count, so missed interrupts show as a difference larger than one.
///
/// `uio_pci_generic` masks the line with COMMAND.INTx-disable when it fires; the backend
/// clears that bit again in ``SysfsBackend/unmaskINTx()`` after the driver's acknowledge.
public final class UIOInterruptSource: InterruptSource, @unchecked Sendable {
    private let fd: FileDescriptor
    private let cancelFD: EventFD
    private let lock = Lock()
    private var lastCount: UInt32
    private var closed = false

    /// Opens the UIO node.
    public init(_ uio: UIODevice) throws {
        do {
            fd = try FileDescriptor.open(FilePath(uio.node), .readOnly, options: [.nonBlocking, .closeOnExec])
        } catch let e as Errno {
            let hint = e == .permissionDenied ? " (run as root or give your user the node)" : ""
            throw BusmasterError.systemCall("open", errno: e.rawValue, context: "opening \(uio.node)\(hint)")
        }
        cancelFD = try EventFD()
        lastCount = uio.eventCount ?? 0
    }

    deinit {
        lock.withLock { closed = true }
        try? fd.close()
    }

    public func wait(timeoutNanos: UInt64) throws -> UInt64 {
        let deadline = monotonicNanos() &+ timeoutNanos
        while true {
            var count: UInt32 = 0
            let n = withUnsafeMutableBytes(of: &count) { Glibc.read(fd.rawValue, $0.baseAddress, 4) }
            if n == 4 {
                return lock.withLock {
                    let delta = count &- lastCount
                    lastCount = count
                    return UInt64(max(delta, 1))
                }
            }
            if n < 0 && errno != EAGAIN && errno != EINTR {
                throw BusmasterError.systemCall("read", errno: errno, context: "waiting for a UIO interrupt")
            }
            var fds = [pollfd(fd: fd.rawValue, events: Int16(POLLIN), revents: 0), pollfd(fd: cancelFD.fd, events: Int16(POLLIN), revents: 0)]
            let now = monotonicNanos()
            if now >= deadline { return 0 }
            let ms = Int32(min((deadline - now + 999_999) / 1_000_000, UInt64(Int32.max)))
            let rc = poll(&fds, 2, ms)
            if rc < 0 && errno != EINTR { throw BusmasterError.systemCall("poll", errno: errno, context: "waiting for a UIO interrupt") }
            if fds[1].revents != 0 {
                throw BusmasterError.interruptsUnavailable("the wait was cancelled because interrupts were disabled")
            }
        }
    }

    public func cancel() { cancelFD.signal() }
}
