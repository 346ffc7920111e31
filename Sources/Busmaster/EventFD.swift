import CBusmasterSupport

#if canImport(Glibc)
    import Glibc
#endif

/// A Linux eventfd: a kernel counter that one side increments and the other reads and
/// resets. Used for interrupt delivery by VFIO and, identically, by the simulation.
public final class EventFD: @unchecked Sendable {
    /// The file descriptor.
    public let fd: Int32

    /// Creates a non-blocking, close-on-exec eventfd.
    public init() throws {
        let fd = bm_eventfd(0, bm_efd_cloexec() | bm_efd_nonblock())
        guard fd >= 0 else { throw BusmasterError.systemCall("eventfd", errno: errno, context: "") }
        self.fd = fd
    }

    deinit { Glibc.close(fd) }

    /// Adds `n` to the counter, waking a waiter.
    public func signal(_ n: UInt64 = 1) {
        var v = n
        _ = Glibc.write(fd, &v, 8)
    }

    /// Reads and resets the counter; 0 when it was 0.
    public func drain() -> UInt64 {
        var v: UInt64 = 0
        let r = Glibc.read(fd, &v, 8)
        return r == 8 ? v : 0
    }

    /// Waits until the counter is non-zero or `cancel` is signalled or `timeoutNanos` pass.
    /// Returns the drained count (0 on timeout). Throws when cancelled.
    public func wait(timeoutNanos: UInt64, cancel: EventFD?) throws -> UInt64 {
        let deadline = monotonicNanos() &+ timeoutNanos
        while true {
            let n = drain()
            if n > 0 { return n }
            var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0)]
            if let c = cancel { fds.append(pollfd(fd: c.fd, events: Int16(POLLIN), revents: 0)) }
            let now = monotonicNanos()
            if now >= deadline { return 0 }
            let ms = Int32(min((deadline - now + 999_999) / 1_000_000, UInt64(Int32.max)))
            let rc = poll(&fds, nfds_t(fds.count), ms)
            if rc < 0 {
                if errno == EINTR { continue }
                throw BusmasterError.systemCall("poll", errno: errno, context: "waiting for an interrupt eventfd")
            }
            if fds.count > 1 && fds[1].revents != 0 {
                throw BusmasterError.interruptsUnavailable("the wait was cancelled because interrupts were disabled")
            }
        }
    }
}
