import Busmaster
import BusmasterSimulation
import Testing
import XilinxXDMA
import XilinxXDMAModel

/// Opening: BAR location and classification, engine probing, masking, recovery, device loss.
@Suite struct OpenAndProbeTests {
    static let layouts: [(XDMAModelConfiguration.BARLayout, Bool)] = XDMAModelConfiguration.BARLayout.allCases.flatMap { [($0, false), ($0, true)] }

    @Test(arguments: 0..<layouts.count)
    func barsAreFoundAndClassifiedByPosition(_ i: Int) throws {
        let (layout, wide) = Self.layouts[i]
        var config = XDMAModelConfiguration()
        config.barLayout = layout
        config.uses64BitBARs = wide
        config.userBARReadSideEffects = true
        let bench = try XDMABench(config)
        #expect(bench.device.bars.dma == bench.model.dmaBAR)
        #expect(bench.device.bars.user == bench.model.userBAR)
        #expect(bench.device.bars.bypass == bench.model.bypassBAR)
        #expect(bench.device.bars.probed == [bench.model.dmaBAR], "only the 64 KiB BAR was probed")
        #expect(bench.model.statistics.userBARProbeReads == 0, "the user BAR's side-effecting registers were not read")
        #expect((bench.device.user != nil) == (bench.model.userBAR != nil))
        #expect((bench.device.bypass != nil) == (bench.model.bypassBAR != nil))
    }

    @Test func callerNamedBARStillClassifiesUserAndBypass() throws {
        var config = XDMAModelConfiguration()
        config.userBARSize = 0x10000  // same size as the DMA BAR: a blind probe would read it first
        config.userBARReadSideEffects = true
        var options = XDMABench.fastOptions()
        options.dmaBAR = 1
        let bench = try XDMABench(config, options: options)
        #expect(bench.device.bars == XDMABARLayout(dma: 1, user: 0, bypass: 2, probed: [1]))
        #expect(bench.model.statistics.userBARProbeReads == 0)
    }

    @Test func callerNamingAWrongBARGetsAnIdentifierMismatch() throws {
        let board = SimulatedPlatform()
        let pci = try board.open(board.plug(try XDMAModel()))
        defer { pci.close() }
        var options = XDMAOptions()
        options.dmaBAR = 2  // the bypass BAR: card memory, zeros at 0x2000/0x3000
        let e = xdmaError { () throws(XDMAError) in try XDMADevice.open(pci, options: options) }
        guard case .notXDMA(let m) = e else { Issue.record("got \(String(describing: e))"); return }
        #expect(m.contains("BAR 2"))
        options.dmaBAR = 5
        let e2 = xdmaError { () throws(XDMAError) in try XDMADevice.open(pci, options: options) }
        guard case .invalidRequest = e2 else { Issue.record("got \(String(describing: e2))"); return }
    }

    @Test func aDeviceThatIsNotAnXDMAIsRefused() throws {
        let board = SimulatedPlatform()
        let pci = try board.open(board.plug(NotAnXDMA()))
        defer { pci.close() }
        let e = xdmaError { () throws(XDMAError) in try XDMADevice.open(pci) }
        guard case .notXDMA(let m) = e else { Issue.record("got \(String(describing: e))"); return }
        #expect(m.contains("0x1FC2xxxx"))
    }

    @Test func enginesAreProbedWithKindVersionAndAlignments() throws {
        var config = XDMAModelConfiguration()
        config.h2cEngines = [.memoryMapped, .stream, .memoryMapped]
        config.c2hEngines = [.stream]
        config.alignments = 0x0040_0440
        let bench = try XDMABench(config)
        let ids = bench.device.engines.map(\.id)
        #expect(ids == [XDMAEngineID(.h2c, 0), XDMAEngineID(.h2c, 1), XDMAEngineID(.h2c, 2), XDMAEngineID(.c2h, 0)])
        #expect(bench.device.engines.map(\.kind) == [.memoryMapped, .stream, .memoryMapped, .stream])
        #expect(bench.device.engines.allSatisfy { $0.info.version == 6 })
        let a = try bench.h2c().info.alignments
        #expect(a.addressAlignment == 64 && a.lengthGranularity == 4 && a.addressBits == 64)
        #expect(bench.device.engines.map(\.info.interruptIndex) == [0, 1, 2, 3])
        let e = xdmaError { () throws(XDMAError) in try bench.device.engine(.c2h, channel: 2) }
        guard case .noSuchEngine(let id, let available) = e else { Issue.record("got \(String(describing: e))"); return }
        #expect(id == XDMAEngineID(.c2h, 2) && available.count == 4)
        #expect(bench.device.configuration.datapathBits == 256)
    }

    @Test func openMasksEveryInterruptAndClearsLeftoverHaltAndCredits() throws {
        let bench = try XDMABench()
        let bar = try bench.pci.bar(bench.device.bars.dma)
        // A previous owner left interrupts enabled, fetching halted and credit mode on.
        bar.write(XDMARegisters.IRQ.channelEnableSet, 0x3)
        bar.write(XDMARegisters.IRQ.userEnableSet, 0xFFFF)
        bar.write(XDMARegisters.SGDMACommon.descriptorHaltSet, 0x0001_0001)
        bar.write(XDMARegisters.SGDMACommon.creditModeEnableSet, 0x0001_0001)
        let again = try XDMADevice.open(bench.pci, options: XDMABench.fastOptions())
        defer { again.close() }
        #expect(bar.read(XDMARegisters.IRQ.channelEnable) == 0)
        #expect(bar.read(XDMARegisters.IRQ.userEnable) == 0)
        #expect(bar.read(XDMARegisters.SGDMACommon.descriptorHalt) == 0)
        #expect(bar.read(XDMARegisters.SGDMACommon.creditModeEnable) == 0)
        #expect(again.notes.contains { $0.contains("halt") } && again.notes.contains { $0.contains("credit") })
        let buf = try bench.buffer(8192)
        try again.engine(.h2c, channel: 0).write(buf, to: 0)
    }

    @Test func anEngineLeftRunningByAPreviousOwnerIsRecovered() throws {
        let bench = try XDMABench(.streamLoopback())
        let bar = try bench.pci.bar(bench.device.bars.dma)
        // A previous owner started a C2H stream receive and went away: the engine waits busy.
        let ring = try bench.pci.allocateDMABuffer(size: 4096, direction: .toDevice)
        let slots = try bench.pci.allocateDMABuffer(size: 4096, direction: .fromDevice)
        let data = try bench.pci.allocateDMABuffer(size: 4096, direction: .fromDevice)
        XDMADescriptor(flags: [.stop, .completed], length: 4096, source: slots.busAddress(), destination: data.busAddress(), next: 0)
            .store(to: ring.bytes.baseAddress!)
        let regs = XDMAEngineRegisters(.c2h, channel: 0)
        bar.write(regs.descriptorLow, UInt32(truncatingIfNeeded: ring.busAddress()))
        bar.write(regs.descriptorHigh, UInt32(truncatingIfNeeded: ring.busAddress() >> 32))
        bar.write(regs.descriptorAdjacent, 0)
        bar.write(regs.control, XDMARegisters.latchEnables(.c2h) | XDMARegisters.Control.run.mask)
        Thread_sleep(milliseconds: 20)
        #expect(XDMAEngineStatus(raw: bar.read(regs.status), direction: .c2h).busy)
        let again = try XDMADevice.open(bench.pci, options: XDMABench.fastOptions())
        defer { again.close() }
        let c2h = try again.engine(.c2h, channel: 0)
        #expect(!c2h.isDead)
        #expect(!c2h.readStatus().busy)
        #expect(try bench.model.state(of: .c2h(0)).run == false)
        let out = try bench.buffer(4096, .toDevice, seed: 3)
        try again.engine(.h2c, channel: 0).send(out)
        let into = try bench.buffer(4096, .fromDevice)
        _ = try c2h.receive(into: into)
        #expect(into.copy(0..<4096) == out.copy(0..<4096))
    }

    @Test func closeStopsEverythingAndLaterCallsFail() throws {
        let bench = try XDMABench(options: XDMABench.fastOptions(interrupts: [.msix]))
        let buf = try bench.buffer(4096)
        try bench.h2c().write(buf, to: 0)
        let h2c = try bench.h2c()
        bench.device.close()
        bench.device.close()  // idempotent
        #expect(bench.device.interruptKind == nil)
        let bar = try bench.pci.bar(bench.device.bars.dma)
        #expect(bar.read(XDMARegisters.IRQ.channelEnable) == 0 && bar.read(XDMARegisters.IRQ.userEnable) == 0)
        #expect(try bench.model.state(of: .h2c(0)).run == false)
        guard case .closed = xdmaError({ () throws(XDMAError) in try h2c.write(buf, to: 0) }) else { Issue.record("write after close"); return }
        guard case .closed = xdmaError({ () throws(XDMAError) in try bench.device.engine(.c2h, channel: 0) }) else {
            Issue.record("engine after close"); return
        }
    }

    @Test func aRemovedDeviceIsReportedAtOpenAndDuringUse() throws {
        let bench = try XDMABench()
        let buf = try bench.buffer(4096)
        bench.board.faults.surpriseRemoval = true
        let e = xdmaError { () throws(XDMAError) in try XDMADevice.open(bench.pci) }
        guard case .deviceLost = e else { Issue.record("open: got \(String(describing: e))"); return }
        // The open device notices at the next transfer (all-ones status / timeout path) …
        let started = monotonicNanos()
        let e2 = xdmaError { () throws(XDMAError) in try bench.h2c().write(buf, to: 0, options: XDMATransferOptions(timeout: .milliseconds(200))) }
        guard case .deviceLost = e2 else { Issue.record("transfer: got \(String(describing: e2))"); return }
        #expect(bench.device.isLost)
        // … and every later call fails fast without touching the device.
        let reads = bench.dma.reads
        let t0 = monotonicNanos()
        let e3 = xdmaError { () throws(XDMAError) in try bench.c2h().read(into: buf, from: 0) }
        guard case .deviceLost = e3 else { Issue.record("later: got \(String(describing: e3))"); return }
        #expect(monotonicNanos() - t0 < 50_000_000)
        #expect(bench.dma.reads == reads)
        #expect(monotonicNanos() - started < 3_000_000_000)
    }
}

/// A device with a 64 KiB and a 1 MiB BAR whose registers read a fixed non-XDMA pattern.
final class NotAnXDMA: DeviceModel {
    let configuration = ModelConfiguration(
        vendorID: 0x10EE, deviceID: 0x903F, classCode: 0x058000,
        bars: [ModelBAR(index: 0, size: 0x10000), ModelBAR(index: 1, size: 1 << 20)])
    func attach(_ context: DeviceContext) {}
    func read(bar: Int, offset: Int, width: AccessWidth) -> UInt64 { 0x1FC0_0000 | UInt64(offset) }
    func write(bar: Int, offset: Int, width: AccessWidth, value: UInt64) {}
    func reset() {}
}

/// Sleeps the calling thread.
func Thread_sleep(milliseconds: Int) {
    var ts = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
    nanosleep(&ts, nil)
}

#if canImport(Glibc)
    import Glibc
#endif
