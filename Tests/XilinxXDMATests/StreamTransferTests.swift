import Busmaster
import BusmasterSimulation
import Testing
import XilinxXDMA
import XilinxXDMAModel

/// AXI4-Stream engines against the model's loopback, source and sink.
@Suite struct StreamTransferTests {
    @Test(arguments: [[InterruptKind](), [.msix]])
    func loopbackOnePacketWithResultWritebacks(_ kinds: [InterruptKind]) throws {
        let bench = try XDMABench(.streamLoopback(), options: XDMABench.fastOptions(interrupts: kinds))
        let h2c = try bench.h2c()
        let c2h = try bench.c2h()
        #expect(h2c.kind == .stream && c2h.kind == .stream)
        let out = try bench.buffer(10_000, .toDevice, seed: 21)
        try h2c.send(out)
        let into = try bench.buffer(3 * 4096, .fromDevice)
        into.clear()
        let r = try c2h.receive(into: into)
        #expect(r.bytesReceived == 10_000)
        #expect(r.descriptors.map(\.length) == [4096, 4096, 1808])
        #expect(r.descriptors.map(\.endOfPacket) == [false, false, true])
        #expect(r.packets.count == 1)
        #expect(r.packets[0].complete && r.packets[0].ranges == [0..<10_000])
        #expect(into.copy(0..<10_000) == out.copy(0..<10_000))
    }

    @Test func severalPacketsKeepTheirBoundaries() throws {
        let bench = try XDMABench(.streamLoopback())
        let out = try bench.buffer(8192, .toDevice, seed: 4)
        try bench.h2c().send(out, packetLengths: [100, 5000, 3092])
        let into = try bench.buffer(4 * 4096, .fromDevice)
        let r = try bench.c2h().receive(into: into)
        #expect(r.bytesReceived == 8192)
        #expect(r.packets.map(\.length) == [100, 5000, 3092])
        #expect(r.packets.allSatisfy { $0.complete })
        // Each packet starts in a fresh descriptor.
        #expect(r.packets.map { $0.ranges.first!.lowerBound } == [0, 4096, 12288])
        var received: [UInt8] = []
        for p in r.packets { for range in p.ranges { received += into.copy(range) } }
        #expect(received == out.copy(0..<8192))
        #expect(bench.board.lints == [] && bench.board.dmaFaults == [])
    }

    @Test(arguments: [XDMACompletionMode.poll, .interrupt])
    func stopAtEndOfPacketEndsEarly(_ mode: XDMACompletionMode) throws {
        let bench = try XDMABench(.streamLoopback(), options: XDMABench.fastOptions(interrupts: mode == .interrupt ? [.msix] : []))
        let out = try bench.buffer(5000, .toDevice, seed: 8)
        try bench.h2c().send(out)
        let into = try bench.buffer(64 * 1024, .fromDevice)
        let r = try bench.c2h().receive(into: into, options: XDMATransferOptions(stopAtEndOfPacket: true))
        #expect(r.bytesReceived == 5000)
        #expect(r.packets.count == 1 && r.packets[0].complete)
        #expect(into.copy(0..<5000) == out.copy(0..<5000))
        // The engine is usable afterwards.
        let again = try bench.buffer(4096, .toDevice, seed: 9)
        try bench.h2c().send(again)
        let r2 = try bench.c2h().receive(into: into, range: 0..<4096)
        #expect(r2.bytesReceived == 4096 && into.copy(0..<4096) == again.copy(0..<4096))
    }

    @Test func pushedSourceAndSinkWithoutLoopback() throws {
        var config = XDMAModelConfiguration.streamLoopback()
        config.streamLoopback = false
        let bench = try XDMABench(config)
        var rng = SplitMix64(seed: 31)
        let packet = rng.bytes(256)
        try bench.model.push(packet: packet, channel: 0)
        let into = try bench.buffer(256, .fromDevice, contiguous: true)
        let r = try bench.c2h().receive(into: into)
        #expect(r.packets.count == 1 && into.copy(0..<256) == packet)
        let out = try bench.buffer(9000, .toDevice, seed: 2)
        try bench.h2c().send(out, packetLengths: [1000, 8000])
        let sink = try bench.model.takeSinkPackets(channel: 0)
        #expect(sink == [out.copy(0..<1000), out.copy(1000..<9000)])
    }

    @Test func c2hStreamLengthRuleIsCheckedBeforeProgramming() throws {
        let bench = try XDMABench(.streamLoopback())
        let buf = try bench.buffer(8192, .fromDevice)
        let writes = bench.dma.writes
        let e1 = xdmaError { () throws(XDMAError) in try bench.c2h().receive(into: buf, range: 0..<100) }
        guard case .streamLengthRule(let m) = e1 else { Issue.record("got \(String(describing: e1))"); return }
        #expect(m.contains("64"))
        // A 64-multiple total whose bus pieces are not 64-multiples (host offset 32 in S/G memory).
        let e2 = xdmaError { () throws(XDMAError) in try bench.c2h().receive(into: buf, range: 32..<(32 + 4096)) }
        guard case .streamLengthRule = e2 else { Issue.record("got \(String(describing: e2))"); return }
        #expect(bench.dma.writes == writes, "nothing was programmed")
        // Packet lengths must add up.
        let out = try bench.buffer(1000, .toDevice)
        let e3 = xdmaError { () throws(XDMAError) in try bench.h2c().send(out, packetLengths: [500, 400]) }
        guard case .invalidRequest = e3 else { Issue.record("got \(String(describing: e3))"); return }
    }

    @Test func receiveWithoutDataTimesOutAndTheEngineRecovers() throws {
        let bench = try XDMABench(.streamLoopback())
        let into = try bench.buffer(8192, .fromDevice)
        let c2h = try bench.c2h()
        let e = xdmaError { () throws(XDMAError) in try c2h.receive(into: into, options: XDMATransferOptions(timeout: .milliseconds(300))) }
        guard case .timeout(let report) = e else { Issue.record("expected a timeout, got \(String(describing: e))"); return }
        #expect(report.engineRecovered)
        #expect(report.bytesTransferred == 0)
        #expect(report.diagnosis.contains("stream source"))
        #expect(!c2h.isDead)
        // Next transfer on the same engine works.
        let out = try bench.buffer(8192, .toDevice, seed: 12)
        try bench.h2c().send(out)
        let r = try c2h.receive(into: into)
        #expect(r.bytesReceived == 8192 && into.copy(0..<8192) == out.copy(0..<8192))
    }

    @Test func partialReceiveReportsTheBytesThatArrived() throws {
        let bench = try XDMABench(.streamLoopback())
        let out = try bench.buffer(6000, .toDevice, seed: 13)
        try bench.h2c().send(out)
        let into = try bench.buffer(4 * 4096, .fromDevice)
        let e = xdmaError { () throws(XDMAError) in
            try bench.c2h().receive(into: into, options: XDMATransferOptions(timeout: .milliseconds(300)))
        }
        guard case .timeout(let report) = e else { Issue.record("expected a timeout, got \(String(describing: e))"); return }
        #expect(report.bytesTransferred == 6000, "the sum of valid result lengths")
        #expect(report.completedDescriptors == 2)
        #expect(into.copy(0..<6000) == out.copy(0..<6000))
    }

    @Test func pollModeStreamsDoNoRegisterReads() throws {
        let bench = try XDMABench(.streamLoopback())
        let out = try bench.buffer(32 * 1024, .toDevice, seed: 14)
        let into = try bench.buffer(32 * 1024, .fromDevice)
        try bench.h2c().send(out)
        _ = try bench.c2h().receive(into: into)
        let reads = bench.dma.reads
        try bench.h2c().send(out)
        let r = try bench.c2h().receive(into: into)
        #expect(bench.dma.reads == reads)
        #expect(r.bytesReceived == 32 * 1024)
    }
}
