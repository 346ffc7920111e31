import Busmaster
import BusmasterSimulation
import Testing
import XilinxXDMA
import XilinxXDMAModel

/// Every fault the model can inject → a typed error naming the cause → a good transfer on
/// the same engine.
@Suite struct FaultTests {
    /// A good write and read-back on engines H2C0/C2H0 (proves the engines still work).
    func goodRoundTrip(_ bench: XDMABench, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let a = try bench.buffer(12_288, .toDevice, seed: 99)
        let b = try bench.buffer(12_288, .fromDevice)
        b.clear()
        try bench.h2c().write(a, to: 0x8000)
        try bench.c2h().read(into: b, from: 0x8000)
        #expect(b.copy(0..<12_288) == a.copy(0..<12_288), "good transfer after the fault", sourceLocation: sourceLocation)
    }

    func hardwareReport(_ e: XDMAError?, sourceLocation: SourceLocation = #_sourceLocation) -> XDMATransferReport? {
        guard case .hardwareError(let r) = e else {
            Issue.record("expected a hardware error, got \(String(describing: e))", sourceLocation: sourceLocation)
            return nil
        }
        #expect(r.engineRecovered, sourceLocation: sourceLocation)
        return r
    }

    static let busErrors: [(XDMAModelBusError, XDMAPCIeErrorCause)] = [
        (.unsupportedRequest, .unsupportedRequest), (.completerAbort, .completerAbort), (.parity, .parity),
        (.poisoned, .poisoned), (.unexpectedCompletion, .unexpectedCompletion),
    ]

    @Test(arguments: 0..<busErrors.count)
    func descriptorFetchErrors(_ i: Int) throws {
        let (injected, expected) = Self.busErrors[i]
        for mode in [XDMACompletionMode.poll, .interrupt] {
            let bench = try XDMABench(options: XDMABench.fastOptions(interrupts: mode == .interrupt ? [.msix] : []))
            let buf = try bench.buffer(8192)
            bench.model.faults.hostReadErrors = [.init(range: 0..<UInt64.max, error: injected, descriptorReads: true, dataReads: false)]
            let e = xdmaError { () throws(XDMAError) in try bench.h2c().write(buf, to: 0) }
            let r = hardwareReport(e)
            #expect(r?.faults.contains(.descriptorFetchError(expected)) == true, "\(mode): \(String(describing: r))")
            #expect(r?.completedDescriptors == 0)
            bench.model.clearFaults()
            try goodRoundTrip(bench)
        }
    }

    @Test(arguments: 0..<busErrors.count)
    func hostDataReadErrors(_ i: Int) throws {
        let (injected, expected) = Self.busErrors[i]
        let bench = try XDMABench()
        let buf = try bench.buffer(3 * 4096, .toDevice, contiguous: false)
        // Fault only the last page's bus range: two descriptors complete first.
        let last = buf.segments.first { $0.bufferOffset == 2 * 4096 }!
        bench.model.faults.hostReadErrors = [
            .init(range: last.busAddress..<(last.busAddress + 4096), error: injected, descriptorReads: false, dataReads: true)
        ]
        let e = xdmaError { () throws(XDMAError) in try bench.h2c().write(buf, to: 0x1000) }
        let r = hardwareReport(e)
        #expect(r?.faults == [.hostReadError(expected)])
        #expect(r?.completedDescriptors == 2 && r?.bytesTransferred == 8192, "partial progress in bytes")
        #expect(r?.bytesRequested == 3 * 4096)
        bench.model.clearFaults()
        try goodRoundTrip(bench)
    }

    @Test func cardDecodeErrorsPastTheEndOfCardMemory() throws {
        var config = XDMAModelConfiguration()
        config.cardMemorySize = 1 << 20
        let bench = try XDMABench(config)  // the driver is not told the card size
        let buf = try bench.buffer(3 * 4096)
        let start = UInt64((1 << 20) - 4096)
        let w = hardwareReport(xdmaError { () throws(XDMAError) in try bench.h2c().write(buf, to: start) })
        #expect(w?.faults == [.cardWriteError(.decodeError)])
        #expect(w?.completedDescriptors == 1 && w?.bytesTransferred == 4096)
        let r = hardwareReport(xdmaError { () throws(XDMAError) in try bench.c2h().read(into: buf, from: start) })
        #expect(r?.faults == [.cardReadError(.decodeError)])
        try goodRoundTrip(bench)
    }

    @Test func cardSlaveErrors() throws {
        let bench = try XDMABench(options: XDMABench.fastOptions(interrupts: [.msix]))
        let buf = try bench.buffer(4096)
        bench.model.faults.cardSlaveErrors = [.init(range: 0x10_0000..<0x10_1000)]
        let w = hardwareReport(xdmaError { () throws(XDMAError) in try bench.h2c().write(buf, to: 0x10_0000) })
        #expect(w?.faults == [.cardWriteError(.slaveError)])
        let r = hardwareReport(xdmaError { () throws(XDMAError) in try bench.c2h().read(into: buf, from: 0x10_0800) })
        #expect(r?.faults == [.cardReadError(.slaveError)])
        #expect(r.map { String(describing: XDMAError.hardwareError($0)).contains("SLVERR") } == true, "the message names the cause")
        bench.model.clearFaults()
        try goodRoundTrip(bench)
    }

    @Test(arguments: [XDMACompletionMode.poll, .interrupt])
    func badDescriptorMagic(_ mode: XDMACompletionMode) throws {
        let bench = try XDMABench(options: XDMABench.fastOptions(interrupts: mode == .interrupt ? [.intx] : []))
        let buf = try bench.buffer(5 * 4096)
        try bench.model.injectBadMagic(.h2c(0), atFetch: 3)
        let r = hardwareReport(xdmaError { () throws(XDMAError) in try bench.h2c().write(buf, to: 0) })
        #expect(r?.faults == [.badDescriptorMagic])
        #expect(r?.completedDescriptors == 2)
        try goodRoundTrip(bench)
    }

    @Test func errorStopWithoutWritebackIsFoundByTheStatusCheck() throws {
        var config = XDMAModelConfiguration()
        config.writebackOnErrorStop = false
        let bench = try XDMABench(config)
        let buf = try bench.buffer(4096)
        try bench.model.injectBadMagic(.c2h(0))
        let t0 = monotonicNanos()
        let r = hardwareReport(xdmaError { () throws(XDMAError) in try bench.c2h().read(into: buf, from: 0) })
        #expect(r?.faults == [.badDescriptorMagic])
        #expect(monotonicNanos() - t0 < 1_500_000_000, "found by the 100 ms status check, not the 2 s timeout")
        try goodRoundTrip(bench)
    }

    @Test(arguments: [XDMACompletionMode.poll, .interrupt])
    func lostCompletionSignalsAreRecoveredByReadingStatus(_ mode: XDMACompletionMode) throws {
        let bench = try XDMABench(options: XDMABench.fastOptions(interrupts: mode == .interrupt ? [.msix] : []))
        let buf = try bench.buffer(4096)
        if mode == .poll { bench.model.faults.pollWritebacksToDrop = 1 } else { bench.model.dropNextMessages(1) }
        let r = try bench.h2c().write(buf, to: 0)
        #expect(r.bytes == 4096)
        #expect(r.missedCompletionSignals == 1)
        #expect(try bench.h2c().statistics.missedCompletionSignals == 1)
        try goodRoundTrip(bench)
        #expect(try bench.h2c().statistics.missedCompletionSignals == 1, "the next transfers complete normally")
    }

    @Test func completedFlagFlippedOffStillCompletes() throws {
        let bench = try XDMABench()
        let buf = try bench.buffer(4096, contiguous: true)
        try bench.model.injectCorruption(.flipFlags(XDMADescriptorFlags.completed.rawValue.asUInt8), .h2c(0))
        let r = try bench.h2c().write(buf, to: 0)
        #expect(r.missedCompletionSignals == 1, "no writeback without Completed; the status check saw descriptor_stopped")
    }

    @Test(arguments: [XDMACompletionMode.poll, .interrupt])
    func stopFlagFlippedOff(_ mode: XDMACompletionMode) throws {
        let bench = try XDMABench(options: XDMABench.fastOptions(interrupts: mode == .interrupt ? [.msix] : []))
        let buf = try bench.buffer(4096, contiguous: true)
        try bench.model.injectCorruption(.flipFlags(XDMADescriptorFlags.stop.rawValue.asUInt8), .h2c(0))
        // Without Stop the engine runs on to Nxt_adr 0 and fails fetching there. In interrupt
        // mode completion needs descriptor_stopped, so that fetch error is what is reported; in
        // poll mode the writeback of the completed descriptor may win the race.
        do throws(XDMAError) {
            let r = try bench.h2c().write(buf, to: 0)
            #expect(mode == .poll && r.bytes == 4096, "only poll mode can see the completion first")
        } catch {
            let r = hardwareReport(error)
            #expect(r?.faults.contains { if case .descriptorFetchError = $0 { true } else { false } } == true)
        }
        try goodRoundTrip(bench)
    }

    @Test func h2cStreamLengthsOffTheDatapathWidthWhenTheIPRequiresIt() throws {
        var config = XDMAModelConfiguration.streamLoopback()
        config.streamLoopback = false
        config.h2cStreamRequiresWidthMultiple = true
        let bench = try XDMABench(config)
        let buf = try bench.buffer(4096, .toDevice, seed: 2)
        let r = hardwareReport(xdmaError { () throws(XDMAError) in try bench.h2c().send(buf, range: 0..<100) })
        #expect(r?.faults == [.invalidLength])
        try bench.h2c().send(buf, range: 0..<(32 * 10))
        #expect(try bench.model.takeSinkPackets(channel: 0).last == buf.copy(0..<320))
    }

    @Test func missingResultWritebacksAreReported() throws {
        let bench = try XDMABench(.streamLoopback())
        let out = try bench.buffer(8192, .toDevice, seed: 1)
        try bench.h2c().send(out)
        bench.model.faults.resultWritebacksToDrop = 1
        let into = try bench.buffer(8192, .fromDevice)
        let e = xdmaError { () throws(XDMAError) in try bench.c2h().receive(into: into) }
        guard case .streamWritebackInvalid(_, let m) = e else { Issue.record("got \(String(describing: e))"); return }
        #expect(m.contains("0x52B4"))
        try bench.h2c().send(out)
        #expect(try bench.c2h().receive(into: into).bytesReceived == 8192)
    }

    @Test func aStallShorterThanTheStopLimitTimesOutAndRecovers() throws {
        let bench = try XDMABench()
        let buf = try bench.buffer(8192)
        try bench.model.stick(.h2c(0), for: .milliseconds(350))
        let e = xdmaError { () throws(XDMAError) in try bench.h2c().write(buf, to: 0, options: XDMATransferOptions(timeout: .milliseconds(150))) }
        guard case .timeout(let r) = e else { Issue.record("got \(String(describing: e))"); return }
        #expect(r.engineRecovered)
        #expect(r.status.busy, "Status was read before declaring failure")
        #expect(r.diagnosis.contains("stuck busy"))
        #expect(r.elapsed >= .milliseconds(150))
        try goodRoundTrip(bench)
    }

    @Test func anEngineThatNeverGoesIdleIsMarkedDead() throws {
        let bench = try XDMABench()
        let buf = try bench.buffer(4096)
        try bench.model.stick(.c2h(0))
        let e = xdmaError { () throws(XDMAError) in try bench.c2h().read(into: buf, from: 0, options: XDMATransferOptions(timeout: .milliseconds(100))) }
        guard case .timeout(let r) = e else { Issue.record("got \(String(describing: e))"); return }
        #expect(!r.engineRecovered)
        #expect(r.diagnosis.contains("marked dead"))
        #expect(try bench.c2h().isDead)
        let e2 = xdmaError { () throws(XDMAError) in try bench.c2h().read(into: buf, from: 0) }
        guard case .engineDead(let id, let why) = e2 else { Issue.record("got \(String(describing: e2))"); return }
        #expect(id == XDMAEngineID(.c2h, 0) && why.contains("busy"))
        #expect(String(describing: e2!).contains("reset"))
        // The other engine is independent.
        try bench.h2c().write(buf, to: 0)
    }

    @Test func surpriseRemovalDuringATransferIsDeviceLost() throws {
        let bench = try XDMABench(options: XDMABench.fastOptions(interrupts: [.msix]))
        let buf = try bench.buffer(4096)
        try bench.model.stick(.h2c(0))
        let board = bench.board
        startThread(name: "remove") {
            Thread_sleep(milliseconds: 50)
            board.faults.surpriseRemoval = true
        }
        let e = xdmaError { () throws(XDMAError) in try bench.h2c().write(buf, to: 0) }
        guard case .deviceLost = e else { Issue.record("got \(String(describing: e))"); return }
        #expect(bench.device.isLost)
    }
}

extension UInt32 {
    var asUInt8: UInt8 { UInt8(truncatingIfNeeded: self) }
}
