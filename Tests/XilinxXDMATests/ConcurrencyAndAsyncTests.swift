import Busmaster
import BusmasterSimulation
import Synchronization
import Testing
import XilinxXDMA
import XilinxXDMAModel

/// Several engines at once, several threads on one engine, and the async API.
@Suite struct ConcurrencyAndAsyncTests {
    static func fourByFour() -> XDMAModelConfiguration {
        var c = XDMAModelConfiguration()
        c.h2cEngines = Array(repeating: .memoryMapped, count: 4)
        c.c2hEngines = Array(repeating: .memoryMapped, count: 4)
        return c
    }

    @Test(arguments: [[InterruptKind](), [.msix], [.intx]])
    func allEightEnginesAtOnce(_ kinds: [InterruptKind]) throws {
        let bench = try XDMABench(Self.fourByFour(), options: XDMABench.fastOptions(interrupts: kinds))
        let failures = Atomic<Int>(0)
        let finished = Atomic<Int>(0)
        for ch in 0..<4 {
            let out = try bench.buffer(96 * 1024, .toDevice, seed: UInt64(ch) + 40)
            let into = try bench.buffer(96 * 1024, .fromDevice)
            let h2c = try bench.h2c(ch)
            let c2h = try bench.c2h(ch)
            startThread(name: "ch\(ch)") {
                do {
                    for round in 0..<8 {
                        let card = UInt64(ch) << 22 | UInt64(round) << 17
                        try h2c.write(out, to: card)
                        into.clear()
                        try c2h.read(into: into, from: card)
                        if into.copy(0..<into.count) != out.copy(0..<out.count) { failures.add(1, ordering: .relaxed) }
                    }
                } catch {
                    failures.add(100, ordering: .relaxed)
                }
                finished.add(1, ordering: .releasing)
            }
        }
        try waitUntil("all four channels finished", timeout: .seconds(30)) { finished.load(ordering: .acquiring) == 4 }
        #expect(failures.load(ordering: .relaxed) == 0)
        #expect(bench.device.engines.allSatisfy { $0.statistics.transfers == 8 && $0.statistics.failures == 0 })
        #expect(bench.board.lints == [] && bench.board.dmaFaults == [])
    }

    @Test func threadsSharingOneEngineAreSerialised() async throws {
        let bench = try XDMABench()
        let h2c = try bench.h2c()
        let buffers = try (0..<6).map { try bench.buffer(20_000, .toDevice, seed: UInt64($0) + 70) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (i, b) in buffers.enumerated() {
                group.addTask { for k in 0..<5 { try await h2c.write(b, to: UInt64(i) * 0x10_0000 + UInt64(k) * 0x8000) } }
            }
            try await group.waitForAll()
        }
        for (i, b) in buffers.enumerated() {
            #expect(try bench.model.readCardMemory(at: i * 0x10_0000 + 4 * 0x8000, count: 20_000) == b.copy(0..<20_000))
        }
        #expect(h2c.statistics.transfers == 30)
    }

    @Test func asyncRoundTrip() async throws {
        let bench = try XDMABench(options: XDMABench.fastOptions(interrupts: [.msix]))
        let out = try bench.buffer(200_000, .toDevice, seed: 17)
        let into = try bench.buffer(200_000, .fromDevice)
        let w = try await bench.h2c().write(out, to: 0x1234)
        let r = try await bench.c2h().read(into: into, from: 0x1234)
        #expect(w.bytes == 200_000 && r.bytes == 200_000)
        #expect(into.copy(0..<200_000) == out.copy(0..<200_000))
    }

    @Test func waitingTransfersDoNotOccupyTheCooperativePool() async throws {
        // Eight async transfers wait on eight stalled engines at the same time. If a waiting
        // transfer held a thread of the cooperative pool (as wide as the CPU count), at most
        // that many could be in flight and this task could not keep polling.
        let bench = try XDMABench(Self.fourByFour())
        let ids: [XDMAModelEngine] = bench.device.engines.map { $0.direction == .h2c ? .h2c($0.id.channel) : .c2h($0.id.channel) }
        for id in ids { try bench.model.stick(id) }
        let buffers = try (0..<8).map { _ in try bench.buffer(4096) }
        let engines = bench.device.engines
        let options = XDMATransferOptions(timeout: .seconds(30))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (e, b) in zip(engines, buffers) {
                group.addTask {
                    if e.direction == .h2c { try await e.write(b, to: 0, options: options) } else { try await e.read(into: b, from: 0, options: options) }
                }
            }
            let deadline = ContinuousClock.now + .seconds(20)
            var running = 0
            while ContinuousClock.now < deadline {
                running = try ids.filter { try bench.model.state(of: $0).run }.count
                if running == 8 { break }
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(running == 8, "all eight transfers were in flight at once")
            for id in ids { try bench.model.unstick(id) }
            try await group.waitForAll()
        }
        #expect(engines.allSatisfy { $0.statistics.transfers == 1 })
    }

    @Test func cancellingAnAsyncTransferStopsTheEngine() async throws {
        let bench = try XDMABench()
        let buf = try bench.buffer(8192)
        let c2h = try bench.c2h()
        try bench.model.stick(.c2h(0))
        let task = Task { try await c2h.read(into: buf, from: 0, options: XDMATransferOptions(timeout: .seconds(30))) }
        // Cancel once the engine is running, and release the stall soon after so the stop succeeds.
        while try !bench.model.state(of: .c2h(0)).run { try await Task.sleep(for: .milliseconds(2)) }
        task.cancel()
        try await Task.sleep(for: .milliseconds(50))
        try bench.model.unstick(.c2h(0))
        do {
            _ = try await task.value
            Issue.record("the transfer should have been cancelled")
        } catch let e as XDMAError {
            guard case .cancelled(let r) = e else { Issue.record("got \(e)"); return }
            #expect(r.engineRecovered)
            #expect(r.diagnosis.contains("cancelled"))
        }
        #expect(!c2h.isDead)
        let out = try bench.buffer(8192, .toDevice, seed: 5)
        try await bench.h2c().write(out, to: 0)
        try await c2h.read(into: buf, from: 0)
        #expect(buf.copy(0..<8192) == out.copy(0..<8192))
    }
}
