import Busmaster
import BusmasterSimulation
import Testing
import XilinxXDMA
import XilinxXDMAModel

/// Prepared (build once, run many) transfers against the model.
@Suite struct PreparedTransferTests {
    @Test(arguments: [SimulationMode.threaded, .stepped])
    func preparedRoundTripsMoveTheData(_ mode: SimulationMode) throws {
        let bench = try XDMABench(mode: mode)
        let out = try bench.buffer(3 * 4096 + 512, .toDevice, seed: 7)
        let back = try bench.buffer(3 * 4096 + 512, .fromDevice)
        let write = try bench.h2c().prepareWrite(out, to: 0x2000)
        let read = try bench.c2h().prepareRead(into: back, from: 0x2000)
        #expect(write.byteCount == out.count && write.descriptorCount >= 4, "scattered pages give one descriptor each")
        for round in 0..<5 {
            out.bytes[round] = UInt8(round)  // the data changes between runs; the descriptors do not
            back.bytes.initializeMemory(as: UInt8.self, repeating: 0)
            #expect(try bench.h2c().run(write) == out.count)
            #expect(try bench.c2h().run(read) == back.count)
            #expect(Array(back.bytes) == Array(out.bytes))
        }
        #expect(bench.board.lints.isEmpty && bench.board.dmaFaults.isEmpty)
        #expect(try bench.h2c().statistics.transfers == 5)
    }

    @Test func preparedRunsMakeNoRegisterReads() throws {
        let bench = try XDMABench(mode: .stepped)
        let buf = try bench.buffer(4096, .toDevice)
        let t = try bench.h2c().prepareWrite(buf, to: 0)
        try bench.h2c().run(t)
        let readsBefore = bench.dma.reads
        let writesBefore = bench.dma.writes
        bench.dma.startLog()
        for _ in 0..<10 { try bench.h2c().run(t) }
        let log = bench.dma.stopLog()
        #expect(bench.dma.reads == readsBefore, "\(log.filter { !$0.isWrite })")
        #expect(bench.dma.writes - writesBefore == 50, "4 start writes and one Run clear per run")
    }

    @Test func preparedTransfersAreBoundToTheirEngineAndValidatedUpFront() throws {
        let bench = try XDMABench(XDMAModelConfiguration(), options: XDMABench.fastOptions(cardMemorySize: 1 << 20))
        let buf = try bench.buffer(8192)
        let t = try bench.h2c().prepareWrite(buf, to: 0)
        let wrongEngine = xdmaError { () throws(XDMAError) in try bench.c2h().run(t) }
        guard case .wrongEngine? = wrongEngine else {
            Issue.record("expected wrongEngine, got \(String(describing: wrongEngine))")
            return
        }
        let beyond = xdmaError { () throws(XDMAError) in try bench.h2c().prepareWrite(buf, to: (1 << 20) - 4096) }
        guard case .cardAddressOutOfRange? = beyond else {
            Issue.record("expected cardAddressOutOfRange, got \(String(describing: beyond))")
            return
        }
        let wrongDirection = xdmaError { () throws(XDMAError) in try bench.h2c().prepareRead(into: buf, from: 0) }
        #expect(wrongDirection != nil)
    }

    @Test func aFaultDuringAPreparedRunIsTypedAndTheEngineRecovers() throws {
        let bench = try XDMABench()
        let buf = try bench.buffer(4 * 4096, .toDevice)
        let t = try bench.h2c().prepareWrite(buf, to: 0)
        try bench.h2c().run(t)
        try bench.model.injectBadMagic(.h2c(0), atFetch: 2)
        let e = xdmaError { () throws(XDMAError) in try bench.h2c().run(t) }
        guard case .hardwareError(let report)? = e else {
            Issue.record("expected a hardware error, got \(String(describing: e))")
            return
        }
        #expect(report.faults == [.badDescriptorMagic])
        #expect(report.completedDescriptors == 1)
        #expect(try bench.h2c().run(t) == buf.count, "the same prepared transfer runs again after recovery")
    }
}
