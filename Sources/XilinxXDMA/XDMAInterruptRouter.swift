import Busmaster
import Synchronization

/// Where a shared-vector dispatcher leaves what it found for one waiter (an engine or a
/// user interrupt line).
final class XDMAMailbox: @unchecked Sendable {
    private let cond = ConditionLock()
    private var bits: UInt32 = 0
    private var events: UInt64 = 0
    private var closed = false

    /// Adds `value` (status bits; 0 for a bare event) and wakes the waiter.
    func post(_ value: UInt32) {
        cond.withLock {
            bits |= value
            events += 1
        }
        cond.broadcast()
    }

    /// Waits up to `timeoutNanos` for a post; returns the accumulated bits and event count.
    /// Returns nil on timeout or once closed.
    func take(timeoutNanos: UInt64) -> (bits: UInt32, events: UInt64)? {
        let deadline = monotonicNanos() &+ timeoutNanos
        return cond.withLock {
            while events == 0 && !closed {
                if monotonicNanos() >= deadline { break }
                cond.wait(untilMonotonicNanos: deadline)
            }
            guard events > 0 else { return nil }
            defer {
                bits = 0
                events = 0
            }
            return (bits, events)
        }
    }

    /// Drops anything posted.
    func reset() { cond.withLock { bits = 0; events = 0 } }

    /// Wakes waiters for good.
    func close() {
        cond.withLock { closed = true }
        cond.broadcast()
    }

    var isClosed: Bool { cond.withLock { closed } }
}

/// Routes XDMA interrupts (§5.1 step 5, §5.5): programs the IRQ-block vector fields, and for
/// every vector decides who listens.
///
/// - A vector with exactly one client (MSI-X/MSI, enough vectors): that client waits on the
///   vector itself and acknowledges by reading its own status once. No other register reads.
/// - A shared vector (fewer vectors than clients, or INTx): a dispatcher thread waits on it;
///   the acknowledge step reads 0x2044 to find the engines, reads each one's status (which
///   clears the cause) and masks user interrupts that fired, then mails the results.
final class XDMAInterruptRouter: @unchecked Sendable {
    let interrupts: Interrupts
    let bar: MMIORegion
    /// Interrupts vector per engine interrupt index.
    let engineVector: [Int: Int]
    /// Interrupts vector per user interrupt line.
    let userVector: [Int]
    /// Hardware vector-field values (MSI/MSI-X vector, or INTx pin) per engine index / user line.
    let engineField: [Int: UInt32]
    let userField: [Int]
    private let sharedEngines: [Int: [Int]]
    private let sharedUsers: [Int: [Int]]
    private let dedicated: Set<Int>
    private let statusRegisters: [Int: Register<UInt32>]
    let engineMail: [Int: XDMAMailbox]
    let userMail: [XDMAMailbox]
    private let stopped = Atomic<Bool>(false)
    private let onDeviceLost: @Sendable (String) -> Void
    private let userLinesEnabled: @Sendable () -> UInt32

    /// Maps `engines` (interrupt index → status-RC register) and `userCount` user lines onto
    /// the enabled vectors.
    init(interrupts: Interrupts, bar: MMIORegion, engines: [Int: Register<UInt32>], userCount: Int, intxPin: UInt8,
         userLinesEnabled: @escaping @Sendable () -> UInt32, onDeviceLost: @escaping @Sendable (String) -> Void) {
        self.interrupts = interrupts
        self.userLinesEnabled = userLinesEnabled
        self.bar = bar
        self.statusRegisters = engines
        self.onDeviceLost = onDeviceLost
        let v = max(interrupts.vectorCount, 1)
        let engineSlots = (engines.keys.max() ?? -1) + 1
        var ev: [Int: Int] = [:]
        var ef: [Int: UInt32] = [:]
        var uv: [Int] = []
        var uf: [Int] = []
        let isINTx = interrupts.kind == .intx
        let pinField = UInt32(max(Int(intxPin), 1) - 1) & XDMARegisters.IRQ.intxPinField.mask
        let needed = engineSlots + userCount
        for e in engines.keys {
            let vec = isINTx ? 0 : (v >= needed ? e : e % v)
            ev[e] = vec
            ef[e] = isINTx ? pinField : UInt32(vec)
        }
        for n in 0..<userCount {
            let vec = isINTx ? 0 : (v >= needed ? engineSlots + n : (engineSlots + n) % v)
            uv.append(vec)
            uf.append(isINTx ? Int(pinField) : vec)
        }
        engineVector = ev
        engineField = ef
        userVector = uv
        userField = uf
        var clients: [Int: Int] = [:]
        for vec in ev.values { clients[vec, default: 0] += 1 }
        for vec in uv { clients[vec, default: 0] += 1 }
        var se: [Int: [Int]] = [:]
        var su: [Int: [Int]] = [:]
        var ded = Set<Int>()
        for (vec, count) in clients {
            if count == 1 && !isINTx { ded.insert(vec) }
        }
        for (e, vec) in ev where !ded.contains(vec) { se[vec, default: []].append(e) }
        for (n, vec) in uv.enumerated() where !ded.contains(vec) { su[vec, default: []].append(n) }
        sharedEngines = se
        sharedUsers = su
        dedicated = ded
        engineMail = Dictionary(uniqueKeysWithValues: engines.keys.map { ($0, XDMAMailbox()) })
        userMail = (0..<userCount).map { _ in XDMAMailbox() }
    }

    /// Vectors served by a dispatcher thread.
    var sharedVectors: [Int] { Array(Set(sharedEngines.keys).union(sharedUsers.keys)).sorted() }

    /// Whether engine `e` waits on its own vector.
    func isDedicated(engine e: Int) -> Bool { engineVector[e].map { dedicated.contains($0) } ?? false }
    /// Whether user line `n` waits on its own vector.
    func isDedicated(user n: Int) -> Bool { dedicated.contains(userVector[n]) }

    /// Writes the channel (0x20A0/A4) and user (0x2080–8C) vector fields.
    func programVectors() {
        typealias I = XDMARegisters.IRQ
        var channel = [UInt32](repeating: 0, count: I.channelVectorRegisters)
        for (e, f) in engineField where e < I.channelVectorRegisters * I.fieldsPerVectorRegister {
            channel[e / I.fieldsPerVectorRegister] = I.vectorField(for: e).insert(f & 0x1F, into: channel[e / I.fieldsPerVectorRegister])
        }
        for (i, value) in channel.enumerated() { bar.write(I.channelVectorRegister(for: i * I.fieldsPerVectorRegister), value) }
        var user = [UInt32](repeating: 0, count: I.userVectorRegisters)
        for (n, f) in userField.enumerated() {
            user[n / I.fieldsPerVectorRegister] = I.vectorField(for: n).insert(UInt32(f) & 0x1F, into: user[n / I.fieldsPerVectorRegister])
        }
        for (i, value) in user.enumerated() { bar.write(I.userVectorRegister(for: i * I.fieldsPerVectorRegister), value) }
    }

    /// Installs the acknowledge step and starts one dispatcher thread per shared vector.
    func start() {
        interrupts.acknowledge = { [weak self] vector in self?.service(vector: vector) }
        for vec in sharedVectors {
            startThread(name: "xdma-irq-\(vec)") { [self] in
                while !stopped.load(ordering: .relaxed) {
                    do { _ = try interrupts.poll(vector: vec, timeout: .milliseconds(50)) } catch { break }
                }
                for m in engineMail.values { m.close() }
                for m in userMail { m.close() }
            }
        }
    }

    /// Stops the dispatcher threads and wakes every waiter.
    func stop() {
        stopped.store(true, ordering: .relaxed)
        interrupts.acknowledge = nil
        for m in engineMail.values { m.close() }
        for m in userMail { m.close() }
    }

    /// The acknowledge step for `vector` (runs before an INTx line is unmasked).
    func service(vector: Int) {
        let engines = sharedEngines[vector] ?? []
        let users = sharedUsers[vector] ?? []
        if engines.isEmpty && users.isEmpty { return }
        if !engines.isEmpty {
            let request = bar.read(XDMARegisters.IRQ.channelRequest)
            if request == XDMARegisters.Identifier.deviceLostValue {
                onDeviceLost("the channel interrupt request register reads 0xFFFFFFFF")
                for e in engines { engineMail[e]?.post(request) }
                for n in users { userMail[n].post(0) }
                return
            }
            for e in engines where request & (1 << UInt32(e)) != 0 {
                if let reg = statusRegisters[e] { engineMail[e]?.post(bar.read(reg)) }
            }
        }
        if !users.isEmpty && userLinesEnabled() != 0 {
            let request = bar.read(XDMARegisters.IRQ.userRequest)
            var fired: UInt32 = 0
            for n in users where request & (1 << UInt32(n)) != 0 { fired |= 1 << UInt32(n) }
            if fired != 0 {
                // Mask what fired, so a level source cannot storm; the user unmasks after clearing it.
                bar.write(XDMARegisters.IRQ.userEnableClear, fired)
                for n in users where fired & (1 << UInt32(n)) != 0 { userMail[n].post(0) }
            }
        }
    }

    /// Waits up to `timeoutNanos` for engine `e`'s interrupt; returns the status it read
    /// (0x44, which clears the causes), or nil when nothing arrived.
    func waitEngine(_ e: Int, statusReadClear: Register<UInt32>, timeoutNanos: UInt64) throws(XDMAError) -> UInt32? {
        if isDedicated(engine: e), let vec = engineVector[e] {
            do {
                guard try interrupts.poll(vector: vec, timeout: .nanoseconds(Int64(clamping: timeoutNanos))) != nil else { return nil }
            } catch {
                throw .interrupts("waiting for the engine interrupt failed: \(error)")
            }
            return bar.read(statusReadClear)
        }
        guard let box = engineMail[e] else { throw .interrupts("engine index \(e) has no interrupt route") }
        if box.isClosed { throw .interrupts("interrupts were disabled while waiting") }
        return box.take(timeoutNanos: timeoutNanos)?.bits
    }

    /// Drops stale mail for engine `e` before a new chain starts.
    func prepare(engine e: Int) { engineMail[e]?.reset() }

    /// Waits up to `timeoutNanos` for user line `n`; true when it fired (and is now masked).
    func waitUser(_ n: Int, timeoutNanos: UInt64) throws(XDMAError) -> Bool {
        if isDedicated(user: n) {
            do {
                guard try interrupts.poll(vector: userVector[n], timeout: .nanoseconds(Int64(clamping: timeoutNanos))) != nil else {
                    return false
                }
            } catch {
                throw .interrupts("waiting for user interrupt \(n) failed: \(error)")
            }
            bar.write(XDMARegisters.IRQ.userEnableClear, 1 << UInt32(n))
            return true
        }
        if userMail[n].isClosed { throw .interrupts("interrupts were disabled while waiting") }
        return userMail[n].take(timeoutNanos: timeoutNanos) != nil
    }
}
