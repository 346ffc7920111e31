import CBusmasterSupport

#if canImport(Glibc)
    import Glibc
#endif

/// A mutual-exclusion lock over `pthread_mutex_t` for short critical sections.
public final class Lock: @unchecked Sendable {
    @usableFromInline let mutex: UnsafeMutablePointer<pthread_mutex_t>

    /// Creates an unlocked lock.
    public init() {
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Acquires the lock.
    @inlinable public func lock() { pthread_mutex_lock(mutex) }
    /// Releases the lock.
    @inlinable public func unlock() { pthread_mutex_unlock(mutex) }

    /// Runs `body` holding the lock.
    @inlinable public func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}

/// A lock with a condition variable, for waits with a deadline.
public final class ConditionLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let cond: UnsafeMutablePointer<pthread_cond_t>

    /// Creates the lock and condition (the condition uses the monotonic clock).
    public init() {
        mutex = .allocate(capacity: 1)
        cond = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        pthread_cond_init(cond, &attr)
        pthread_condattr_destroy(&attr)
    }

    deinit {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        cond.deallocate()
        mutex.deallocate()
    }

    /// Acquires the lock.
    public func lock() { pthread_mutex_lock(mutex) }
    /// Releases the lock.
    public func unlock() { pthread_mutex_unlock(mutex) }
    /// Runs `body` holding the lock.
    public func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
    /// Acquires the lock, spinning briefly before sleeping: for locks held only for short
    /// stretches by threads that are themselves running, where a sleep/wake round trip
    /// (tens of microseconds on a virtual machine) would dominate.
    public func lockSpinning() {
        var spins = 0
        while spins < 4096 {
            if pthread_mutex_trylock(mutex) == 0 { return }
            bm_cpu_relax()
            spins &+= 1
        }
        pthread_mutex_lock(mutex)
    }
    /// Wakes all waiters. Call with or without the lock held.
    public func broadcast() { pthread_cond_broadcast(cond) }

    /// Waits (lock held) until signalled or `deadline` (monotonic nanoseconds) passes.
    /// Returns false on timeout.
    @discardableResult
    public func wait(untilMonotonicNanos deadline: UInt64) -> Bool {
        var ts = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        return pthread_cond_timedwait(cond, mutex, &ts) == 0
    }
}

/// Monotonic time in nanoseconds (CLOCK_MONOTONIC).
@inlinable public func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

extension Duration {
    /// The duration in whole nanoseconds (saturating; negative becomes 0).
    public var nanoseconds: UInt64 {
        let (s, a) = components
        if s < 0 { return 0 }
        let ns = UInt64(s).multipliedReportingOverflow(by: 1_000_000_000)
        if ns.overflow { return .max }
        return ns.partialValue &+ UInt64(a / 1_000_000_000)
    }

    /// The duration in milliseconds as a Double.
    public var milliseconds: Double { Double(nanoseconds) / 1e6 }
}

/// A point in monotonic time after which a wait gives up.
public struct Deadline: Sendable {
    /// Absolute monotonic time in nanoseconds.
    public let monotonicNanos: UInt64

    /// A deadline `timeout` from now.
    public init(timeout: Duration) {
        let now = Busmaster.monotonicNanos()
        let t = timeout.nanoseconds
        monotonicNanos = t > UInt64.max - now ? .max : now + t
    }

    /// Whether the deadline has passed.
    public var hasExpired: Bool { Busmaster.monotonicNanos() >= monotonicNanos }

    /// Nanoseconds left (0 once expired).
    public var remainingNanos: UInt64 {
        let now = Busmaster.monotonicNanos()
        return now >= monotonicNanos ? 0 : monotonicNanos - now
    }
}

/// Polls `condition` until it returns true or `timeout` passes, spinning first and then
/// sleeping with exponential back-off (capped at `maxSleep`). Throws
/// ``BusmasterError/timeout(_:)`` naming `what` on expiry.
public func waitUntil(
    _ what: @autoclosure () -> String, timeout: Duration, maxSleep: Duration = .milliseconds(1),
    _ condition: () throws -> Bool
) throws {
    let deadline = Deadline(timeout: timeout)
    var spins = 0
    var sleepNs: UInt64 = 1_000
    let cap = max(maxSleep.nanoseconds, 1_000)
    while true {
        if try condition() { return }
        if deadline.hasExpired {
            // One last look, so a slow scheduler does not turn success into a timeout.
            if try condition() { return }
            throw BusmasterError.timeout("\(what()) (after \(timeout))")
        }
        spins += 1
        if spins > 64 {
            var ts = timespec(tv_sec: 0, tv_nsec: Int(min(sleepNs, deadline.remainingNanos)))
            nanosleep(&ts, nil)
            sleepNs = min(sleepNs * 2, cap)
        }
    }
}

/// Starts a detached POSIX thread running `body` (used for device threads and interrupt pumps).
public func startThread(name: String, _ body: @escaping @Sendable () -> Void) {
    final class Box: @unchecked Sendable {
        let body: @Sendable () -> Void
        let name: String
        init(_ body: @escaping @Sendable () -> Void, _ name: String) {
            self.body = body
            self.name = name
        }
    }
    let box = Unmanaged.passRetained(Box(body, name)).toOpaque()
    var tid = pthread_t()
    let rc = pthread_create(
        &tid, nil,
        { arg in
            let b = Unmanaged<AnyObject>.fromOpaque(arg!).takeRetainedValue() as! Box
            b.body()
            return nil
        }, box)
    precondition(rc == 0, "pthread_create failed: \(rc)")
    pthread_detach(tid)
}
