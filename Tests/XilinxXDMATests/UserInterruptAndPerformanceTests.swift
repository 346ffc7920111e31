import Busmaster
import BusmasterSimulation
import Testing
import XilinxXDMA
import XilinxXDMAModel

/// User interrupt lines 0…15 and the engines' performance counters against the model.
@Suite struct UserInterruptTests {
    @Test(arguments: [[InterruptKind](), [.msix], [.msi], [.intx]])
    func fireWaitClearUnmask(_ kinds: [InterruptKind]) throws {
        var config = XDMAModelConfiguration()
        if kinds == [.msi] {
            config.msixVectors = 0
            config.msiVectors = 1
        }
        let bench = try XDMABench(config, options: XDMABench.fastOptions(interrupts: kinds))
        let users = bench.device.userInterrupts
        bench.dma.startLog()
        try users.enable()
        let log = bench.dma.stopLog()
        let enable = log.first { $0.isWrite && $0.offset == XDMARegisters.IRQ.userEnableSet.offset }
        #expect(enable?.value == 0xFFFF, "(1 << 16) - 1, not libxdma's 0x1FFFF")
        for n in [0, 3, 15] {
            try bench.model.raiseUserInterrupt(n)
            try users.wait(n, timeout: .seconds(2))
            #expect(users.enabledLines & (1 << UInt32(n)) == 0, "line \(n) is masked after delivery")
            // The user clears the source in its logic (here the model's user-BAR clear register), then unmasks.
            try bench.device.user!.write32(1 << UInt32(n), at: XDMAModelUserBAR.userInterruptClear.offset)
            #expect(bench.model.userInterruptLines & (1 << UInt32(n)) == 0)
            try users.unmask(n)
            #expect(try users.poll(n, timeout: .milliseconds(20)) == false, "no second event without a new edge")
        }
        // A source still high when unmasked fires again at once.
        try bench.model.raiseUserInterrupt(5)
        try users.wait(5, timeout: .seconds(2))
        try users.unmask(5)
        try users.wait(5, timeout: .seconds(2))
        try bench.model.lowerUserInterrupt(5)
    }

    @Test func userVectorsFollowTheEngines() throws {
        let bench = try XDMABench(options: XDMABench.fastOptions(interrupts: [.msix]))
        let users = bench.device.userInterrupts
        try users.enable()
        #expect(try users.vector(of: 7) == 2 + 7)
        bench.model.resetStatistics()
        try bench.model.raiseUserInterrupt(7)
        try users.wait(7, timeout: .seconds(2))
        #expect(bench.model.statistics.messagesPerVector[9] == 1)
        try bench.model.lowerUserInterrupt(7)
    }

    @Test func waitingTimesOutWithATypedError() async throws {
        let bench = try XDMABench(options: XDMABench.fastOptions(interrupts: [.msix]))
        try bench.device.userInterrupts.enable()
        guard case .userInterruptTimeout(let n, _) = xdmaError({ () throws(XDMAError) in
            try bench.device.userInterrupts.wait(2, timeout: .milliseconds(50))
        }) else { Issue.record("no timeout"); return }
        #expect(n == 2)
        guard case .invalidRequest(let m) = xdmaError({ () throws(XDMAError) in try bench.device.userInterrupts.wait(16, timeout: .zero) }) else {
            Issue.record("line 16 accepted"); return
        }
        #expect(m.contains("0...15"))
        // The async wait runs off the cooperative pool.
        startThread(name: "raise") {
            Thread_sleep(milliseconds: 30)
            try? bench.model.raiseUserInterrupt(1)
        }
        try await bench.device.userInterrupts.wait(1, timeout: .seconds(2))
    }
}

@Suite struct PerformanceCounterTests {
    @Test func countersMeasureATransfer() throws {
        let bench = try XDMABench()
        let h2c = try bench.h2c()
        let perf = h2c.performance
        bench.dma.startLog()
        perf.start()
        let writes = bench.dma.stopLog().filter(\.isWrite)
        #expect(writes.map(\.value) == [0x2, 0x5], "Clear, then Auto|Run (PG numbering)")
        #expect(writes.allSatisfy { $0.offset == 0x00C0 })
        #expect(perf.isRunning)
        let size = 1 << 20
        let buf = try bench.buffer(size)
        try h2c.write(buf, to: 0)
        let s = perf.sample()
        let beats = UInt64(size / (bench.device.configuration.datapathBits / 8))
        #expect(s.dataBeats >= beats)
        #expect(s.cycles >= s.dataBeats)
        #expect(s.utilisation > 0 && s.utilisation <= 1)
        #expect(!s.cyclesMaxed && !s.dataMaxed)
        #expect(s.bytesPerSecond(datapathBits: 256, axiClockHz: 250e6) > 0)
        perf.stop()
        #expect(!perf.isRunning)
        perf.clear()
        #expect(perf.sample().cycles == 0 && perf.sample().dataBeats == 0)
    }
}
