import Busmaster
import BusmasterSimulation

/// What tests, drivers' tests and diagnostic tools use from outside model code: stream data,
/// user interrupt lines, card memory, fault injection, counters and the event log. Each
/// method takes the platform lock (so never call one inside `SimulatedPlatform.withModelsPaused`).
extension XDMAModel {
    /// Runs `body` with the platform lock held (or directly before the model is plugged in).
    func locked<T>(_ body: () throws -> T) rethrows -> T {
        if let c = context { return try c.withPlatformLock(body) }
        return try body()
    }

    private func engineObject(_ e: XDMAModelEngine) throws -> XDMAEngine {
        let list = e.direction == .h2c ? h2c : c2h
        guard e.channel >= 0 && e.channel < list.count else {
            throw BusmasterError.invalidArgument(
                "XDMA model has no \(e) engine (\(e.direction) channels: 0..<\(list.count))")
        }
        return list[e.channel]
    }

    // MARK: Streams

    /// Feeds one packet into C2H stream channel `channel`'s source (tlast after the last byte).
    /// Throws when that channel is not a C2H stream engine or the packet is empty.
    public func push(packet: [UInt8], channel: Int) throws {
        guard channel >= 0, channel < c2h.count, c2h[channel].isStream else {
            throw BusmasterError.invalidArgument(
                "C2H channel \(channel) is not a stream engine (C2H engines: \(settings.c2hEngines.map(\.rawValue)))")
        }
        guard !packet.isEmpty else {
            throw BusmasterError.invalidArgument("an AXI-Stream packet needs at least one byte (tlast with tkeep = 0 is invalid)")
        }
        locked {
            let fifo = c2hSource(channel: channel)
            packet.withUnsafeBytes { fifo.append($0) }
            fifo.markPacketEnd()
            c2h[channel].kick()
        }
    }

    /// Bytes waiting in C2H stream channel `channel`'s source (including loopback data).
    public func pendingSourceBytes(channel: Int) throws -> Int {
        guard channel >= 0, channel < c2h.count, c2h[channel].isStream else {
            throw BusmasterError.invalidArgument("C2H channel \(channel) is not a stream engine")
        }
        return locked { c2hSource(channel: channel).count }
    }

    /// Removes and returns the complete packets H2C stream channel `channel` delivered to its
    /// sink (not in loopback, not discarding). Frees sink space for a back-pressured engine.
    public func takeSinkPackets(channel: Int) throws -> [[UInt8]] {
        guard channel >= 0, channel < h2c.count, h2c[channel].isStream else {
            throw BusmasterError.invalidArgument(
                "H2C channel \(channel) is not a stream engine (H2C engines: \(settings.h2cEngines.map(\.rawValue)))")
        }
        return try locked {
            guard let sink = h2cSinks[channel] else {
                throw BusmasterError.invalidArgument(
                    "H2C stream channel \(channel) has no sink queue (\(loopsBack(channel) ? "it loops back to C2H \(channel)" : "the sink discards"))")
            }
            var packets: [[UInt8]] = []
            while let p = sink.takePacket() { packets.append(p) }
            if !packets.isEmpty, h2c[channel].waiting { h2c[channel].kick() }
            return packets
        }
    }

    // MARK: User interrupts

    /// Raises user interrupt line `n` (usr_irq_req[n]); it stays high until lowered, by
    /// ``lowerUserInterrupt(_:)`` or by the host writing bit n to ``XDMAModelUserBAR/userInterruptClear``.
    public func raiseUserInterrupt(_ n: Int) throws {
        try checkUserLine(n)
        locked { setUserLine(n, true) }
    }

    /// Lowers user interrupt line `n`.
    public func lowerUserInterrupt(_ n: Int) throws {
        try checkUserLine(n)
        locked { setUserLine(n, false) }
    }

    /// The user interrupt lines, bit n = line n.
    public var userInterruptLines: UInt32 { locked { userLines } }

    private func checkUserLine(_ n: Int) throws {
        guard n >= 0 && n < settings.userInterruptCount else {
            throw BusmasterError.invalidArgument("user interrupt \(n) does not exist (0..<\(settings.userInterruptCount))")
        }
    }

    // MARK: Card memory

    /// Copies `count` bytes of card memory at `address`.
    public func readCardMemory(at address: Int, count: Int) throws -> [UInt8] {
        try checkCardRange(address, count)
        return locked { [UInt8](UnsafeRawBufferPointer(card.bytes(at: UInt64(address), count))) }
    }

    /// Writes `bytes` into card memory at `address`.
    public func writeCardMemory(_ bytes: [UInt8], at address: Int) throws {
        try checkCardRange(address, bytes.count)
        locked { bytes.withUnsafeBytes { card.bytes(at: UInt64(address), bytes.count).copyMemory(from: $0) } }
    }

    private func checkCardRange(_ address: Int, _ count: Int) throws {
        guard address >= 0, count >= 0, card.contains(UInt64(address), count) else {
            throw BusmasterError.invalidArgument(
                "card memory range 0x\(hex(max(address, 0)))+\(count) is outside 0..<0x\(hex(card.size))")
        }
    }

    // MARK: Faults

    /// Chip-level faults (host read errors and dropped writes per bus range, card SLVERR
    /// ranges, dropped messages and writebacks).
    public var faults: XDMAModelFaults {
        get { locked { faultState } }
        set { locked { faultState = newValue } }
    }

    /// Makes the `k`-th descriptor that `engine` fetches from now on (k ≥ 1) carry a bad magic.
    public func injectBadMagic(_ engine: XDMAModelEngine, atFetch k: Int = 1) throws {
        try injectCorruption(.badMagic, engine, atFetch: k)
    }

    /// Changes the `k`-th descriptor `engine` fetches from now on (bad magic or flipped flags).
    public func injectCorruption(_ corruption: XDMAModelDescriptorCorruption, _ engine: XDMAModelEngine, atFetch k: Int = 1) throws {
        guard k >= 1 else { throw BusmasterError.invalidArgument("atFetch counts from 1 (got \(k))") }
        let e = try engineObject(engine)
        locked { e.corruptions.append((e.fetchedTotal + k, corruption)) }
    }

    /// Holds `engine`'s AXI side: it makes no progress and busy stays 1 — even after Run is
    /// cleared — until ``unstick(_:)``, a function reset, or `duration` (nil = forever).
    public func stick(_ engine: XDMAModelEngine, for duration: Duration? = nil) throws {
        let e = try engineObject(engine)
        locked {
            e.stuck = true
            if let old = e.stickRelease { context?.cancel(old) }
            e.stickRelease = nil
            if let d = duration, let ctx = context {
                e.stickRelease = ctx.schedule(after: d) { [unowned e] in
                    e.stickRelease = nil
                    e.stuck = false
                    e.kick()
                }
            }
        }
    }

    /// Releases a stuck engine; it resumes where it was held.
    public func unstick(_ engine: XDMAModelEngine) throws {
        let e = try engineObject(engine)
        locked {
            if let old = e.stickRelease { context?.cancel(old) }
            e.stickRelease = nil
            e.stuck = false
            e.kick()
        }
    }

    /// Drops the next `count` MSI / MSI-X messages (a lost interrupt).
    public func dropNextMessages(_ count: Int) {
        locked { faultState.messagesToDrop += max(0, count) }
    }

    /// Removes every injected fault and releases stuck engines.
    public func clearFaults() {
        locked {
            faultState = XDMAModelFaults()
            for e in engines {
                e.corruptions.removeAll()
                if let old = e.stickRelease { context?.cancel(old) }
                e.stickRelease = nil
                if e.stuck {
                    e.stuck = false
                    e.kick()
                }
            }
        }
    }

    // MARK: Observation

    /// Counters of what the model did.
    public var statistics: XDMAModelStatistics { locked { stats } }

    /// Zeroes the counters.
    public func resetStatistics() { locked { stats = XDMAModelStatistics() } }

    /// The newest events, oldest first (up to ``XDMAModelConfiguration/eventLogCapacity``).
    public var events: [XDMAModelEvent] { locked { eventLog.all } }

    /// Empties the event log.
    public func clearEvents() { locked { eventLog.removeAll() } }

    /// The state of `engine`.
    public func state(of engine: XDMAModelEngine) throws -> XDMAModelEngineState {
        let e = try engineObject(engine)
        return locked { e.snapshot }
    }
}
