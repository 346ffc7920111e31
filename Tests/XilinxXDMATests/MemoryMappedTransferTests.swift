import Busmaster
import BusmasterSimulation
import Testing
import XilinxXDMA
import XilinxXDMAModel

/// Memory-mapped H2C/C2H transfers against the model, in every completion mode.
@Suite struct MemoryMappedTransferTests {
    /// Writes a pattern to card memory, checks the card, reads it back into a cleared buffer.
    func roundTrip(_ bench: XDMABench, size: Int, card: UInt64, seed: UInt64) throws {
        let out = try bench.buffer(size, .toDevice, seed: seed)
        let back = try bench.buffer(size, .fromDevice, seed: 0)
        back.clear(0xA5)
        let w = try bench.h2c().write(out, to: card)
        #expect(w.bytes == size)
        #expect(try bench.model.readCardMemory(at: Int(card), count: size) == out.copy(0..<size), "card memory holds what was written")
        let r = try bench.c2h().read(into: back, from: card)
        #expect(r.bytes == size)
        #expect(back.copy(0..<size) == out.copy(0..<size), "read-back equals what was written")
        #expect(bench.board.lints == [], "the model saw no driver misbehaviour")
        #expect(bench.board.dmaFaults == [], "no DMA outside the mapped buffers")
    }

    @Test func pollModeRoundTrip() throws {
        let bench = try XDMABench()
        #expect(bench.device.interruptKind == nil)
        #expect(try bench.h2c().completionMode == .poll)
        try roundTrip(bench, size: 64 * 1024 + 123, card: 0x1000, seed: 7)
    }

    @Test(arguments: [InterruptKind.msix, .msi, .intx])
    func interruptRoundTrip(_ kind: InterruptKind) throws {
        let bench = try XDMABench(options: XDMABench.fastOptions(interrupts: [kind]))
        #expect(bench.device.interruptKind == kind)
        #expect(try bench.h2c().completionMode == .interrupt)
        for i in 0..<5 {
            try roundTrip(bench, size: 4096 * (i + 1) + i, card: UInt64(i) * 0x10000, seed: UInt64(i) + 100)
        }
        // The completion came by interrupt, not by the status check.
        #expect(try bench.h2c().statistics.missedCompletionSignals == 0)
        #expect(try bench.c2h().statistics.missedCompletionSignals == 0)
        #expect(bench.model.statistics.messagesSent + bench.model.statistics.intxAssertions > 0)
    }

    @Test func pollModeDoesNoRegisterReadsPerTransfer() throws {
        let bench = try XDMABench()
        let buf = try bench.buffer(256 * 1024)
        let h2c = try bench.h2c()
        try h2c.write(buf, to: 0)  // warm up (arming)
        let reads = bench.dma.reads
        let writes = bench.dma.writes
        bench.dma.startLog()
        try h2c.write(buf, to: 0x4000)
        let log = bench.dma.stopLog()
        #expect(bench.dma.reads - reads == 0, "poll mode: zero MMIO reads per transfer")
        // §5.3: descriptor address lo/hi, adjacency, Control with Run; then Run cleared.
        #expect(bench.dma.writes - writes == 5)
        #expect(log.map(\.offset) == [0x4080, 0x4084, 0x4088, 0x0004, 0x000C])
        #expect(log[3].value & 0x0400_0001 == 0x0400_0001, "Control has Run and poll-mode writeback")
        #expect(log[3].value & 0x00FF_FE7E == 0x00FF_FE7E, "every H2C latch enable, including write errors")
    }

    @Test func pollCompletionWithInterruptsKeptForUserLines() throws {
        var options = XDMABench.fastOptions(interrupts: [.msix])
        options.completion = .poll
        let bench = try XDMABench(options: options)
        #expect(bench.device.interruptKind == .msix)
        #expect(try bench.h2c().completionMode == .poll)
        let buf = try bench.buffer(16 * 1024)
        try bench.h2c().write(buf, to: 0)
        let reads = bench.dma.reads
        try bench.h2c().write(buf, to: 0)
        #expect(bench.dma.reads == reads)
        // A transfer may still ask for interrupt completion.
        let r = try bench.c2h().read(into: buf, from: 0, options: XDMATransferOptions(completion: .interrupt))
        #expect(r.completion == .interrupt && r.missedCompletionSignals == 0)
        try bench.device.userInterrupts.enable()
        try bench.model.raiseUserInterrupt(0)
        try bench.device.userInterrupts.wait(0, timeout: .seconds(2))
    }

    @Test func msixCompletionReadsStatusOnce() throws {
        let bench = try XDMABench(options: XDMABench.fastOptions(interrupts: [.msix]))
        let buf = try bench.buffer(64 * 1024)
        let c2h = try bench.c2h()
        try c2h.read(into: buf, from: 0)
        let reads = bench.dma.reads
        bench.dma.startLog()
        try c2h.read(into: buf, from: 0x8000)
        let log = bench.dma.stopLog()
        #expect(bench.dma.reads - reads == 1)
        #expect(log.filter { !$0.isWrite }.map(\.offset) == [0x1044], "one clear-on-read of C2H0 status")
        #expect(log.first { $0.isWrite && $0.offset == 0x1004 }.map { $0.value & 0x0400_0000 } == 0, "no poll writeback in interrupt mode")
    }

    @Test func intxCompletionFindsTheEngineThroughTheRequestRegister() throws {
        let bench = try XDMABench(options: XDMABench.fastOptions(interrupts: [.intx]))
        let buf = try bench.buffer(8192)
        try bench.h2c().write(buf, to: 0)
        bench.dma.startLog()
        try bench.h2c().write(buf, to: 0x10000)
        let reads = bench.dma.stopLog().filter { !$0.isWrite }.map(\.offset)
        // Shared line: channel interrupt request (0x2044), then the engine's clear-on-read status.
        #expect(reads == [0x2044, 0x0044])
    }

    @Test func engineVectorsFollowTheLibxdmaLayout() throws {
        var config = XDMAModelConfiguration()
        config.h2cEngines = [.memoryMapped, .memoryMapped]
        config.c2hEngines = [.memoryMapped, .memoryMapped]
        let bench = try XDMABench(config, options: XDMABench.fastOptions(interrupts: [.msix]))
        #expect(bench.device.vector(of: XDMAEngineID(.h2c, 0)) == 0)
        #expect(bench.device.vector(of: XDMAEngineID(.h2c, 1)) == 1)
        #expect(bench.device.vector(of: XDMAEngineID(.c2h, 0)) == 2)
        #expect(bench.device.vector(of: XDMAEngineID(.c2h, 1)) == 3)
        #expect(try bench.device.userInterrupts.vector(of: 0) == 4)
        let buf = try bench.buffer(4096)
        bench.model.resetStatistics()
        try bench.c2h(1).read(into: buf, from: 0)
        #expect(bench.model.statistics.messagesPerVector[3] == 1, "C2H1 interrupts on vector 3")
    }

    @Test func fewerMSIVectorsThanEnginesShareThroughTheDispatcher() throws {
        var config = XDMAModelConfiguration()
        config.h2cEngines = [.memoryMapped, .memoryMapped]
        config.c2hEngines = [.memoryMapped, .memoryMapped]
        config.msixVectors = 0
        config.msiVectors = 1
        let bench = try XDMABench(config, options: XDMABench.fastOptions(interrupts: [.msix, .msi]))
        #expect(bench.device.interruptKind == .msi)
        for ch in 0..<2 {
            try roundTrip2(bench, ch: ch)
        }
        #expect(try bench.h2c(1).statistics.missedCompletionSignals == 0)
    }

    func roundTrip2(_ bench: XDMABench, ch: Int) throws {
        let a = try bench.buffer(10_000, seed: UInt64(ch) + 9)
        let b = try bench.buffer(10_000, seed: 0)
        b.clear()
        try bench.h2c(ch).write(a, to: UInt64(ch) << 20)
        try bench.c2h(ch).read(into: b, from: UInt64(ch) << 20)
        #expect(a.copy(0..<10_000) == b.copy(0..<10_000))
    }

    @Test func subRangesHostOffsetsAndLockedCallerMemory() throws {
        let bench = try XDMABench()
        // Caller memory locked for S/G: the simulation maps it one page per segment, reversed.
        let size = 5 * 4096
        let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: size + 4096, alignment: 4096)
        defer { raw.deallocate() }
        var rng = SplitMix64(seed: 77)
        rng.fill(raw)
        let window = UnsafeMutableRawBufferPointer(rebasing: raw[123..<(123 + size)])
        let locked = try bench.pci.lockDMABuffer(window, direction: .toDevice)
        #expect(locked.segments.count > 1)
        try bench.h2c().write(locked, range: 1000..<(size - 7), to: 0x3_0000 + 5)
        #expect(try bench.model.readCardMemory(at: 0x3_0005, count: size - 1007) == Array(window[1000..<(size - 7)]))
        let into = try bench.buffer(size, .fromDevice)
        into.clear()
        try bench.c2h().read(into: into, range: 17..<(17 + 3000), from: 0x3_0005 + 1000)
        #expect(into.copy(17..<3017) == Array(window[2000..<5000]))
        #expect(into.copy(0..<17) == [UInt8](repeating: 0, count: 17), "bytes outside the range are untouched")
    }

    @Test func transfersLargerThanTheDescriptorRingRunAsSeveralChains() throws {
        let bench = try XDMABench(options: XDMABench.fastOptions(descriptors: 16))
        let size = 100 * 4096 + 10  // S/G: ~101 page segments → 7 chains of ≤ 16 descriptors
        let a = try bench.buffer(size, .toDevice, seed: 3)
        let w = try bench.h2c().write(a, to: 0x10)
        #expect(w.chains == 7 && w.descriptors == 101)
        #expect(try bench.model.readCardMemory(at: 0x10, count: size) == a.copy(0..<size))
    }

    /// Property test: random sizes, card addresses and host offsets, every byte verified.
    @Test(arguments: [XDMACompletionMode.poll, .interrupt])
    func randomTransfersKeepTheData(_ mode: XDMACompletionMode) throws {
        let bench = try XDMABench(options: XDMABench.fastOptions(interrupts: mode == .interrupt ? [.msix] : [], cardMemorySize: 16 << 20))
        var rng = SplitMix64(seed: mode == .poll ? 0xC0FFEE : 0xBEEF)
        let host = try bench.buffer(300 * 1024, .bidirectional, seed: 5)
        let sink = try bench.buffer(300 * 1024, .bidirectional, seed: 6)
        for round in 0..<40 {
            let size = Int.random(in: 1...(256 * 1024), using: &rng)
            let offset = Int.random(in: 0...(host.count - size), using: &rng)
            let card = UInt64.random(in: 0...UInt64((16 << 20) - size), using: &rng)
            var pattern = SplitMix64(seed: UInt64(round))
            pattern.fill(UnsafeMutableRawBufferPointer(rebasing: host.bytes[offset..<(offset + size)]))
            try bench.h2c().write(host, range: offset..<(offset + size), to: card)
            let back = Int.random(in: 0...(sink.count - size), using: &rng)
            sink.clear(0x5A)
            try bench.c2h().read(into: sink, range: back..<(back + size), from: card)
            #expect(sink.copy(back..<(back + size)) == host.copy(offset..<(offset + size)), "round \(round): \(size) bytes at card \(card)")
            #expect(back == 0 || sink.bytes[back - 1] == 0x5A)
        }
    }

    @Test func nonIncrementingCardAddressUsesOnePort() throws {
        let bench = try XDMABench()
        let beat = bench.device.configuration.datapathBits / 8
        let a = try bench.buffer(4096, .toDevice, seed: 11)
        try bench.h2c().write(a, to: 0x2000, options: XDMATransferOptions(nonIncrementingCardAddress: true))
        // Every beat lands on the same card address: the last beat stays, nothing after it is touched.
        #expect(try bench.model.readCardMemory(at: 0x2000, count: beat) == a.copy((4096 - beat)..<4096))
        #expect(try bench.model.readCardMemory(at: 0x2000 + beat, count: 4096) == [UInt8](repeating: 0, count: 4096))
        // Reading from the port returns that beat over and over.
        let b = try bench.buffer(4 * beat, .fromDevice)
        try bench.c2h().read(into: b, from: 0x2000, options: XDMATransferOptions(nonIncrementingCardAddress: true))
        #expect(b.copy(0..<(4 * beat)) == Array(repeating: a.copy((4096 - beat)..<4096), count: 4).flatMap { $0 })
        // A card address off the datapath width is refused before programming.
        let e = xdmaError { () throws(XDMAError) in
            try bench.h2c().write(a, to: 0x2004, options: XDMATransferOptions(nonIncrementingCardAddress: true))
        }
        guard case .misaligned = e else { Issue.record("got \(String(describing: e))"); return }
    }
}
