import Testing

@testable import Busmaster

@Suite("mmiotrace import and export")
struct TraceMMIOTraceTests {
    /// The e1000e probe captured on the Debian 6.1 kernel in QEMU (linux.md §6).
    static let e1000e = """
        VERSION 20070824
        PCIDEV 0010 808610d3 b feb80000 feba0000 c041 febd0000 0 0 feb40000 20000 20000 20 4000 0 0 40000 
        MARK 6.431205 before e1000e
        MAP 6.659898 1 0xfeb80000 0xff7a5515405c0000 0x20000 0x0 0
        MAP 6.666432 2 0xfebd0000 0xff7a55154004d000 0x50 0x0 0
        W 4 6.685932 2 0xfebd0000 0xfee01004 0x0 0
        W 4 6.693918 1 0xfeb800d8 0xffffffff 0x0 0
        R 4 6.694089 1 0xfeb80008 0x80283 0x0 0
        MARK 9.970672 after e1000e

        """

    @Test func theE1000eSampleImports() throws {
        let result = try MMIOTraceImporter.importTrace(Self.e1000e, fileName: "e1000e.mmiotrace")
        let t = result.trace
        #expect(t.device.address == PCIAddress(bus: 0, device: 2, function: 0))
        #expect(t.device.idString == "8086:10d3")
        #expect(result.device.irq == 0xB)
        #expect(
            t.device.bars == [
                TraceBAR(index: 0, size: 0x20000), TraceBAR(index: 1, size: 0x20000), TraceBAR(index: 2, kind: .io, size: 0x20),
                TraceBAR(index: 3, size: 0x4000),
            ])
        #expect(result.warnings.isEmpty)
        let withoutComments = t.events.filter { if case .comment = $0 { return false } else { return true } }
        #expect(
            withoutComments == [
                .mark("before e1000e"),
                .write(bar: 3, offset: 0, width: .dword, value: .literal(0xFEE0_1004)),  // MSI-X vector 0 address
                .write(bar: 0, offset: 0xD8, width: .dword, value: .literal(0xFFFF_FFFF)),  // IMC
                .read(bar: 0, offset: 0x8, width: .dword, value: 0x80283, count: 1),  // STATUS
                .mark("after e1000e"),
            ])
        // The MSI-X table map is recognised as BAR 3.
        #expect(t.events.contains(.comment("MAP 2 0xfebd0000 0x50 (bar3+0x0)")))
        #expect(t.events.contains(.comment("MAP 1 0xfeb80000 0x20000 (bar0+0x0)")))
        let text = t.render()
        #expect(text.contains("W32 bar0 0x00d8 0xffffffff\nR32 bar0 0x0008 0x00080283\n"))
        #expect(text.contains("W32 bar3 0x0000 0xfee01004\n"))
        #expect(try Trace.parse(text) == t)
    }

    @Test func repeatedReadsFoldAndLostEventsWarn() throws {
        let text = Self.e1000e.replacingFirst(
            "R 4 6.694089 1 0xfeb80008 0x80283 0x0 0\n",
            with: String(repeating: "R 4 6.694089 1 0xfeb80008 0x80283 0x0 0\n", count: 4)
                + "MARK 0.000000 Lost 12 events.\nUNKNOWN 7.0 1 0xfeb80010 0f,b7,00 0x0 0\n")
        let result = try MMIOTraceImporter.importTrace(text, fileName: "lost.mmiotrace")
        #expect(result.trace.events.contains(.read(bar: 0, offset: 0x8, width: .dword, value: 0x80283, count: 4)))
        #expect(result.warnings.count == 2)
        #expect(result.warnings[0].contains("lost 12 events"))
        #expect(result.warnings[1].contains("bar0+0x10"))
        #expect(result.trace.events.contains { if case .comment(let c) = $0 { return c.hasPrefix("WARNING: mmiotrace lost 12 events") } else { return false } })
    }

    static let twoDevices = """
        VERSION 20070824
        PCIDEV 0010 808610d3 b feb80000 0 0 0 0 0 0 20000 0 0 0 0 0 0 e1000e
        PCIDEV 0018 123411e8 a fea00000 0 0 0 0 0 0 100000 0 0 0 0 0 0 
        W 4 1.000000 1 0xfeb800d8 0xffffffff 0x0 0
        R 4 1.000001 2 0xfea00000 0x10000ed 0x0 0

        """

    @Test func theDeviceIsChosenByAddressOrByTheAccesses() throws {
        // Accesses to two devices: ambiguous, and the error lists them.
        let error = #expect(throws: BusmasterError.self) { _ = try MMIOTraceImporter.importTrace(Self.twoDevices) }
        #expect(error.map { "\($0)" }?.contains("00:02.0 8086:10d3 e1000e (1 accesses), 00:03.0 1234:11e8 (1 accesses)") == true)
        // Choosing one keeps its accesses and turns the other's into comments.
        let r = try MMIOTraceImporter.importTrace(Self.twoDevices, device: PCIAddress(bus: 0, device: 3, function: 0))
        #expect(r.trace.device.idString == "1234:11e8")
        #expect(r.trace.events.filter(\.isDeviceEvent) == [.read(bar: 0, offset: 0, width: .dword, value: 0x10000ED, count: 1)])
        #expect(r.trace.events.contains(.comment("skipped W32 0xfeb800d8: belongs to 00:02.0 8086:10d3 e1000e")))
        // Only one device touched: it is picked without being named.
        let single = Self.twoDevices.replacingFirst("R 4 1.000001 2 0xfea00000 0x10000ed 0x0 0\n", with: "")
        #expect(try MMIOTraceImporter.importTrace(single).device.driver == "e1000e")
        // A device that is not listed.
        let missing = #expect(throws: BusmasterError.self) {
            _ = try MMIOTraceImporter.importTrace(Self.twoDevices, device: PCIAddress(bus: 1, device: 0, function: 0))
        }
        #expect(missing.map { "\($0)" }?.contains("01:00.0 in mmiotrace") == true)
    }

    static let malformed: [(String, Int, String)] = [
        ("W 4 6.693918 1 0xfeb800d8\n", 10, "truncated record"),
        ("R 3 6.694089 1 0xfeb80008 0x80283 0x0 0\n", 10, "width must be 1, 2, 4 or 8"),
        ("R 4 6.694089 1 feb80008 0x80283 0x0 0\n", 10, "bad physical address 'feb80008'"),
        ("R 4 six 1 0xfeb80008 0x80283 0x0 0\n", 10, "bad timestamp"),
        ("R 1 6.694089 1 0xfeb80008 0x1ff 0x0 0\n", 10, "does not fit a 8-bit access"),
        ("W 4 6.693918 1 0xfec00000 0x1 0x0 0\n", 10, "outside every BAR of 00:02.0 (BAR0 0xfeb80000+0x20000"),
        ("R 4 6.694089 1 0xfeb40010 0x0 0x0 0\n", 10, "expansion ROM"),
        ("FROB 1 2 3\n", 10, "unknown mmiotrace record 'FROB'"),
        ("PCIDEV 0020 808610d3 b\n", 10, "truncated PCIDEV"),
        ("MAP 6.7 3 0xfeb80000\n", 10, "truncated record"),
    ]

    @Test(arguments: 0..<malformed.count)
    func malformedLinesNameTheirLine(_ i: Int) throws {
        let (extra, line, message) = Self.malformed[i]
        let text = Self.e1000e + extra
        let f = try #require(traceFormatFailure { _ = try MMIOTraceImporter.importTrace(text, fileName: "bad.mmiotrace") })
        #expect(f.file == "bad.mmiotrace")
        #expect(f.line == line, "\(f.message)")
        #expect(f.message.contains(message), "message was: \(f.message)")
    }

    @Test func aMissingOrWrongVersionIsRejected() throws {
        let noVersion = try #require(traceFormatFailure { _ = try MMIOTraceImporter.importTrace("PCIDEV 0010 808610d3 b\n") })
        #expect(noVersion.line == 1)
        #expect(noVersion.message.contains("VERSION 20070824"))
        let wrong = try #require(traceFormatFailure { _ = try MMIOTraceImporter.importTrace("VERSION 20060101\n") })
        #expect(wrong.message.contains("not supported"))
        let noDevice = try #require(traceFormatFailure { _ = try MMIOTraceImporter.importTrace("VERSION 20070824\nMARK 1.0 hi\n") })
        #expect(noDevice.message.contains("no PCIDEV"))
    }

    @Test func exportThenImportKeepsTheAccesses() throws {
        let original = try MMIOTraceImporter.importTrace(Self.e1000e).trace
        let exported = MMIOTraceExporter.export(original)
        #expect(exported.hasPrefix("VERSION 20070824\nPCIDEV 0010 808610d3 0 "))
        let again = try MMIOTraceImporter.importTrace(exported).trace
        #expect(again.device.bars == original.device.bars)
        #expect(again.events.filter(\.isDeviceEvent) == original.events.filter(\.isDeviceEvent))
        // A recorded session exports too: its symbolic addresses become numbers.
        let session = try recordFakeSession()
        let text = MMIOTraceExporter.export(session)
        #expect(text.contains("R 4 0.000000 1 0xf0000008 0x1 0x0 0\n"))
        let back = try MMIOTraceImporter.importTrace(text).trace
        #expect(back.events.contains(.read(bar: 0, offset: 8, width: .dword, value: 1, count: 5)))
    }
}
