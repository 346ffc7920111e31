import Busmaster
import BusmasterSimulation
import Testing
import XilinxXDMA
import XilinxXDMAModel

/// Bad input is refused with a typed error before any register is written.
@Suite struct RequestValidationTests {
    /// Runs `body`, expects an error and that the DMA BAR saw no access at all.
    func refused(_ bench: XDMABench, _ body: () throws(XDMAError) -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> XDMAError? {
        let reads = bench.dma.reads
        let writes = bench.dma.writes
        let e = xdmaError(body, sourceLocation: sourceLocation)
        #expect(bench.dma.reads == reads && bench.dma.writes == writes, "nothing was programmed", sourceLocation: sourceLocation)
        return e
    }

    @Test func sizesRangesAndBuffers() throws {
        let bench = try XDMABench()
        let buf = try bench.buffer(4096)
        let h2c = try bench.h2c()
        guard case .invalidRequest(let m1) = refused(bench, { () throws(XDMAError) in try h2c.write(buf, range: 10..<10, to: 0) }) else {
            Issue.record("empty range"); return
        }
        #expect(m1.contains("at least 1 byte"))
        guard case .invalidRequest(let m2) = refused(bench, { () throws(XDMAError) in try h2c.write(buf, range: 0..<4097, to: 0) }) else {
            Issue.record("range past the buffer"); return
        }
        #expect(m2.contains("0..<4096"))
        let inbound = try bench.buffer(4096, .fromDevice)
        guard case .invalidRequest(let m3) = refused(bench, { () throws(XDMAError) in try h2c.write(inbound, to: 0) }) else {
            Issue.record("direction"); return
        }
        #expect(m3.contains("to-device"))
        let freed = try bench.buffer(4096)
        freed.free()
        guard case .invalidRequest = refused(bench, { () throws(XDMAError) in try h2c.write(freed, to: 0) }) else {
            Issue.record("freed buffer"); return
        }
    }

    @Test func cardRangeAgainstTheStatedMemorySize() throws {
        let bench = try XDMABench(options: XDMABench.fastOptions(cardMemorySize: 1 << 20))
        let buf = try bench.buffer(8192)
        let e = refused(bench) { () throws(XDMAError) in try bench.h2c().write(buf, to: (1 << 20) - 4096) }
        guard case .cardAddressOutOfRange(let m) = e else { Issue.record("got \(String(describing: e))"); return }
        #expect(m.contains("at most 4096 bytes"))
        guard case .cardAddressOutOfRange = refused(bench, { () throws(XDMAError) in try bench.c2h().read(into: buf, from: 1 << 20) }) else {
            Issue.record("read past the end"); return
        }
        guard case .cardAddressOutOfRange = refused(bench, { () throws(XDMAError) in try bench.c2h().read(into: buf, from: .max - 10) }) else {
            Issue.record("overflow"); return
        }
        // Exactly up to the end is fine.
        try bench.h2c().write(buf, to: (1 << 20) - 8192)
    }

    @Test func cardRangeAgainstTheEngineAddressBits() throws {
        var config = XDMAModelConfiguration()
        config.alignments = 0x0001_0114  // 20 address bits
        let bench = try XDMABench(config)
        let buf = try bench.buffer(8192)
        #expect(try bench.h2c().info.alignments.addressBits == 20)
        let e = refused(bench) { () throws(XDMAError) in try bench.h2c().write(buf, to: 0xF_F000) }
        guard case .cardAddressOutOfRange(let m) = e else { Issue.record("got \(String(describing: e))"); return }
        #expect(m.contains("20 address bits"))
    }

    @Test func alignmentRulesFromTheAlignmentsRegister() throws {
        var config = XDMAModelConfiguration()
        config.alignments = 0x0040_0140  // 64-byte address alignment
        let bench = try XDMABench(config)
        let buf = try bench.buffer(3 * 4096, seed: 4)
        let e = refused(bench) { () throws(XDMAError) in try bench.h2c().write(buf, range: 1..<4001, to: 0x100) }
        guard case .misaligned(let m) = e else { Issue.record("got \(String(describing: e))"); return }
        #expect(m.contains("congruent modulo 64"))
        // Congruent but unaligned addresses are fine, across S/G page boundaries too.
        try bench.h2c().write(buf, range: 5..<9000, to: 0x105)
        #expect(try bench.model.readCardMemory(at: 0x105, count: 8995) == buf.copy(5..<9000))
        #expect(bench.model.statistics.engineErrors == 0, "the engine never saw a misaligned descriptor")
    }

    @Test func enginesOnlyDoWhatTheyAreFor() throws {
        let bench = try XDMABench()
        let buf = try bench.buffer(4096)
        guard case .wrongEngine(_, let m) = refused(bench, { () throws(XDMAError) in try bench.c2h().write(buf, to: 0) }) else {
            Issue.record("write on C2H"); return
        }
        #expect(m.contains("H2C"))
        guard case .wrongEngine(_, let m2) = refused(bench, { () throws(XDMAError) in try bench.h2c().send(buf) }) else {
            Issue.record("send on MM"); return
        }
        #expect(m2.contains("write/read"))
        guard case .invalidRequest = refused(bench, { () throws(XDMAError) in
            try bench.c2h().read(into: buf, from: 0, options: XDMATransferOptions(stopAtEndOfPacket: true))
        }) else { Issue.record("EOP option on MM"); return }
        guard case .invalidRequest = refused(bench, { () throws(XDMAError) in
            try bench.h2c().write(buf, to: 0, options: XDMATransferOptions(timeout: .zero))
        }) else { Issue.record("zero timeout"); return }
    }

    @Test func interruptCompletionWithoutInterruptsIsRefused() throws {
        let bench = try XDMABench()
        let buf = try bench.buffer(4096)
        guard case .interrupts = refused(bench, { () throws(XDMAError) in
            try bench.h2c().write(buf, to: 0, options: XDMATransferOptions(completion: .interrupt))
        }) else { Issue.record("interrupt mode without interrupts"); return }
        guard case .interrupts = xdmaError({ () throws(XDMAError) in try bench.h2c().setCompletionMode(.interrupt) }) else {
            Issue.record("setCompletionMode"); return
        }
    }

    @Test func badOptionsAreRefusedAtOpen() throws {
        let board = SimulatedPlatform()
        let pci = try board.open(board.plug(try XDMAModel()))
        defer { pci.close() }
        for (options, word) in [
            (XDMAOptions(timeout: .zero), "timeout"), (XDMAOptions(descriptorsPerEngine: 1), "descriptorsPerEngine"),
            (XDMAOptions(maxDescriptorLength: 0x1000_0000), "maxDescriptorLength"), (XDMAOptions(userInterruptCount: 17), "userInterruptCount"),
            (XDMAOptions(cardMemorySize: 0), "cardMemorySize"),
        ] {
            guard case .invalidRequest(let m) = xdmaError({ () throws(XDMAError) in try XDMADevice.open(pci, options: options) }) else {
                Issue.record("\(word) accepted"); continue
            }
            #expect(m.contains(word))
        }
    }

    @Test func barWindowsValidateOffsetsAndWidths() throws {
        let bench = try XDMABench()
        let user = try #require(bench.device.user)
        let bypass = try #require(bench.device.bypass)
        try user.write32(0xCAFE_F00D, at: 0x0)
        #expect(try user.read32(at: 0x0) == 0xCAFE_F00D, "a scratch register of the model's user logic")
        guard case .invalidRequest(let m) = xdmaError({ () throws(XDMAError) in try user.read32(at: user.size) }) else {
            Issue.record("past the end"); return
        }
        #expect(m.contains("allowed offsets"))
        guard case .invalidRequest = xdmaError({ () throws(XDMAError) in try user.read32(at: 2) }) else { Issue.record("misaligned"); return }
        guard case .invalidRequest = xdmaError({ () throws(XDMAError) in try user.read(.qword, at: 0) }) else { Issue.record("64-bit"); return }
        guard case .invalidRequest = xdmaError({ () throws(XDMAError) in try bench.device.control.read(.word, at: 0) }) else {
            Issue.record("16-bit DMA register access"); return
        }
        #expect(try bench.device.control.read32(at: XDMARegisters.IRQ.identifier.offset) >> 20 == 0x1FC)
        // The bypass BAR reaches card memory directly.
        var rng = SplitMix64(seed: 8)
        let bytes = rng.bytes(256)
        try bytes.withUnsafeBytes { p in try bypass.write(from: p, at: 0x4000) }
        #expect(try bench.model.readCardMemory(at: 0x4000, count: 256) == bytes)
        var back = [UInt8](repeating: 0, count: 256)
        try back.withUnsafeMutableBytes { p in try bypass.read(into: p, at: 0x4000) }
        #expect(back == bytes)
    }
}
