import Busmaster
import CBusmasterSupport
import Synchronization

/// How simulated devices run relative to the driver.
public enum SimulationMode: Sendable, Equatable {
    /// Device engines run on a device thread, concurrently with the driver, in real time.
    case threaded
    /// Deterministic: simulated time advances by `quantum` on every driver register access,
    /// and when a driver waits for an interrupt the simulation runs until it fires or has
    /// nothing left to do. Tests get the exact same sequence every run.
    case stepped(quantum: Duration)

    /// Stepped with a 100 ns quantum per register access.
    public static let stepped = SimulationMode.stepped(quantum: .nanoseconds(100))
}

/// A handle to cancel scheduled device work.
public struct ScheduledEvent: Sendable, Hashable {
    let id: UInt64
}

/// The simulation's clock, event queue and lock. Every model call happens with ``lock`` held.
final class SimulationScheduler: @unchecked Sendable {
    private struct Event {
        var due: UInt64
        var seq: UInt64
        var work: () -> Void
    }

    let mode: SimulationMode
    let lock = ConditionLock()
    private var heap: [Event] = []
    private var seq: UInt64 = 0
    private var cancelled = Set<UInt64>()
    private var steppedNow: UInt64 = 0
    private let start = monotonicNanos()
    private var running = true
    private var threadStarted = false
    private let quantum: UInt64
    /// Bumped whenever work is scheduled, so a spinning device thread notices it without the lock.
    private let generation = Atomic<UInt64>(0)
    /// How long the device thread keeps looking for new work before it sleeps. A real device
    /// is always running; this keeps doorbell-to-engine latency at memory speed.
    static let idleSpinNanos: UInt64 = 200_000

    init(mode: SimulationMode) {
        self.mode = mode
        if case .stepped(let q) = mode { quantum = q.nanoseconds } else { quantum = 0 }
    }

    var isStepped: Bool { quantum > 0 || mode != .threaded }

    /// Simulated nanoseconds since the platform started (lock held).
    var now: UInt64 { isStepped ? steppedNow : monotonicNanos() - start }

    /// Schedules `work` after `delay` (lock held).
    func schedule(after delay: UInt64, _ work: @escaping () -> Void) -> ScheduledEvent {
        seq += 1
        push(Event(due: now &+ delay, seq: seq, work: work))
        generation.add(1, ordering: .releasing)
        if !isStepped {
            if !threadStarted { startDeviceThread() }
            lock.broadcast()
        }
        return ScheduledEvent(id: seq)
    }

    func cancel(_ e: ScheduledEvent) { cancelled.insert(e.id) }

    var hasPendingEvents: Bool { heap.contains { !cancelled.contains($0.seq) } }

    /// Stepped mode: called (lock held) on each driver access.
    func tick() {
        guard isStepped else { return }
        steppedNow &+= quantum
        runDue()
    }

    /// Runs every event due at or before now (lock held).
    func runDue() {
        while let first = heap.first, first.due <= now {
            let e = pop()
            if cancelled.remove(e.seq) != nil { continue }
            e.work()
        }
    }

    /// Stepped mode: jumps to the next event and runs it; false when the queue is empty (lock held).
    @discardableResult
    func runNext() -> Bool {
        while !heap.isEmpty {
            let e = pop()
            if cancelled.remove(e.seq) != nil { continue }
            if e.due > steppedNow { steppedNow = e.due }
            e.work()
            return true
        }
        return false
    }

    /// Stepped mode: advances the clock by `ns`, running what falls due (lock held).
    func advance(by ns: UInt64) {
        let target = steppedNow &+ ns
        while let first = heap.first, first.due <= target {
            let e = pop()
            if cancelled.remove(e.seq) != nil { continue }
            if e.due > steppedNow { steppedNow = e.due }
            e.work()
        }
        steppedNow = target
    }

    func stop() {
        lock.withLock { running = false }
        lock.broadcast()
    }

    private func startDeviceThread() {
        threadStarted = true
        startThread(name: "bm-sim-device") { [self] in
            lock.lock()
            while running {
                runDue()
                if let first = heap.first {
                    let wake = start &+ first.due
                    if wake > monotonicNanos() { lock.wait(untilMonotonicNanos: wake) }
                } else {
                    // Nothing to do: look for new work for a while without the lock, then sleep.
                    let seen = generation.load(ordering: .acquiring)
                    lock.unlock()
                    let until = monotonicNanos() &+ Self.idleSpinNanos
                    var spins = 0
                    while generation.load(ordering: .acquiring) == seen {
                        bm_cpu_relax()
                        spins &+= 1
                        if spins & 255 == 0 && monotonicNanos() >= until { break }
                    }
                    lock.lockSpinning()
                    if generation.load(ordering: .acquiring) == seen && heap.isEmpty && running {
                        lock.wait(untilMonotonicNanos: monotonicNanos() &+ 100_000_000)
                    }
                }
            }
            lock.unlock()
        }
    }

    // MARK: Binary heap ordered by (due, seq).

    private func less(_ a: Event, _ b: Event) -> Bool { a.due != b.due ? a.due < b.due : a.seq < b.seq }

    private func push(_ e: Event) {
        heap.append(e)
        var i = heap.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            if !less(heap[i], heap[p]) { break }
            heap.swapAt(i, p)
            i = p
        }
    }

    private func pop() -> Event {
        let top = heap[0]
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1
                let r = l + 1
                var m = i
                if l < heap.count && less(heap[l], heap[m]) { m = l }
                if r < heap.count && less(heap[r], heap[m]) { m = r }
                if m == i { break }
                heap.swapAt(i, m)
                i = m
            }
        }
        return top
    }
}
