import Testing

@testable import Busmaster

@Suite("Trace format")
struct TraceFormatTests {
    static let device = TraceDevice(
        address: PCIAddress(bus: 0, device: 1, function: 0), vendorID: 0x1234, deviceID: 0x11E8, classCode: 0x00FF00, revision: 0x10,
        subsystemVendorID: 0x1AF4, subsystemID: 0x1100,
        bars: [
            TraceBAR(index: 0, size: 0x10_0000), TraceBAR(index: 2, kind: .io, size: 0x20),
            TraceBAR(index: 4, size: 0x4000, is64Bit: true, isPrefetchable: true),
        ])

    /// A trace using every kind of line.
    static var everyEvent: Trace {
        let data = (0..<70).map { UInt8($0 * 3 & 0xFF) }
        return Trace(
            device: device,
            events: [
                .comment("a comment"),
                .mark("probe start"),
                .configRead(offset: 4, width: .word, value: 0x0107, count: 1),
                .configWrite(offset: 4, width: .word, value: 0x0107),
                .configRead(offset: 0x40, width: .dword, value: 0x1, count: 3),
                .read(bar: 0, offset: 0x20, width: .dword, value: 1, count: 57),
                .read(bar: 2, offset: 0x4, width: .byte, value: 0x7F, count: 1),
                .write(bar: 0, offset: 4, width: .dword, value: .literal(0x1234_5678)),
                .write(bar: 4, offset: 0x10, width: .word, value: .literal(0xBEEF)),
                .dmaAllocate(buffer: 1, size: 0x1000, direction: .toDevice, contiguous: true, bus: nil),
                .dmaLock(buffer: 2, size: 0x2000, direction: .fromDevice, bus: nil),
                .dmaAllocate(
                    buffer: 3, size: 0x2000, direction: .bidirectional, contiguous: false,
                    bus: [
                        DMASegment(busAddress: 0x1_0000_1000, length: 0x1000, bufferOffset: 0),
                        DMASegment(busAddress: 0x1_0000_0000, length: 0x1000, bufferOffset: 0x1000),
                    ]),
                .write(bar: 0, offset: 0x80, width: .qword, value: .busAddress(buffer: 1, offset: 0, part: .full)),
                .write(bar: 0, offset: 0x88, width: .dword, value: .busAddress(buffer: 2, offset: 0x40, part: .low)),
                .write(bar: 0, offset: 0x8C, width: .dword, value: .busAddress(buffer: 2, offset: 0x40, part: .high)),
                .dmaSync(point: .forDevice, buffer: 1, offset: 0, length: 0x1000, crc: 0x1A2B_3C4D, data: nil),
                .irqEnable(kind: .msi, vectors: 1),
                .irq(vector: 0, count: 1),
                .irqTimeout(vector: 0),
                .irqUnmask,
                .dmaSync(point: .forCPU, buffer: 2, offset: 0x10, length: data.count, crc: CRC32.checksum(data), data: data),
                .dmaSync(point: .forCPU, buffer: 2, offset: 0, length: 0x2000, crc: 0xDEAD_BEEF, data: nil),
                .dmaFree(buffer: 1),
                .dmaFree(buffer: 2),
                .dmaFree(buffer: 3),
                .irqDisable,
                .reset,
            ], fileName: "every.trace")
    }

    @Test func renderedLinesFollowTheFormat() {
        let text = Self.everyEvent.render()
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines[0] == "# busmaster-trace 1")
        #expect(lines[1] == "DEVICE 0000:00:01.0 1234:11e8 class=00ff00 rev=10 subsys=1af4:1100")
        #expect(lines[2] == "BAR 0 mem 0x100000 32bit")
        #expect(lines[3] == "BAR 2 io 0x20 32bit")
        #expect(lines[4] == "BAR 4 mem 0x4000 64bit prefetch")
        for expected in [
            "# a comment", "MARK probe start", "CR16 0x004 0x0107", "CW16 0x004 0x0107", "CR32 0x040 0x00000001 x3",
            "R32 bar0 0x0020 0x00000001 x57", "R8 bar2 0x0004 0x7f", "W32 bar0 0x0004 0x12345678", "W16 bar4 0x0010 0xbeef",
            "DMA-ALLOC buf1 0x1000 to-device contiguous", "DMA-LOCK buf2 0x2000 from-device",
            "DMA-ALLOC buf3 0x2000 bidirectional sg bus=0x100001000/0x1000,0x100000000/0x1000",
            "W64 bar0 0x0080 buf1+0x0", "W32 bar0 0x0088 lo:buf2+0x40", "W32 bar0 0x008c hi:buf2+0x40",
            "DMA-SYNC device buf1 0x0 0x1000 crc32=0x1a2b3c4d", "IRQ-ENABLE msi 1", "IRQ v0 1", "IRQ-TIMEOUT v0", "IRQ-UNMASK",
            "DMA-FREE buf1", "IRQ-DISABLE", "RESET",
        ] {
            #expect(lines.contains(expected), "missing line: \(expected)")
        }
        // 70 bytes of DATA: 32 + 32 + 6 per line, at consecutive offsets.
        let data = lines.filter { $0.hasPrefix("DATA ") }
        #expect(data.count == 3)
        #expect(data[0].hasPrefix("DATA buf2 0x10 000306090c0f"))
        #expect(data[1].hasPrefix("DATA buf2 0x30 "))
        #expect(data[2].hasPrefix("DATA buf2 0x50 "))
        #expect(data[0].split(separator: " ")[3].count == 64)
    }

    @Test func renderThenParseRoundTrips() throws {
        let t = Self.everyEvent
        let parsed = try Trace.parse(t.render(), fileName: "every.trace")
        #expect(parsed == t)
        #expect(parsed.device == t.device)
        #expect(parsed.events.count == t.events.count)
        // Rendering the parsed trace gives the same text.
        #expect(parsed.render() == t.render())
        // Source lines agree with the computed line numbers of a rendered trace.
        #expect(parsed.sourceLines == t.eventLineNumbers())
    }

    @Test func parserIsTolerantOfSpacingCommentsAndBlankLines() throws {
        let text = """
            # busmaster-trace 1

            #no space comment
              # indented comment
            DEVICE 0000:00:01.0 1234:11e8
            BAR 0 mem 0x1000
            R32   bar0  0x0   0x1\r
            \tW32 bar0 0x4 0xff
            """
        let t = try Trace.parse(text)
        #expect(t.device.classCode == nil)
        #expect(t.device.bars == [TraceBAR(index: 0, size: 0x1000)])
        #expect(
            t.events == [
                .comment("no space comment"), .comment("indented comment"), .read(bar: 0, offset: 0, width: .dword, value: 1, count: 1),
                .write(bar: 0, offset: 4, width: .dword, value: .literal(0xFF)),
            ])
        #expect(t.sourceLines == [3, 4, 7, 8])
    }

    static let head = "# busmaster-trace 1\nDEVICE 0000:00:01.0 1234:11e8\nBAR 0 mem 0x1000 32bit\n"

    /// (body after the 3 header lines, expected line, part of the message)
    static let malformed: [(String, Int, String)] = [
        ("FROB bar0\n", 4, "unknown keyword 'FROB'"),
        ("W32 bar0 0x00zz 0x1\n", 4, "bad number '0x00zz'"),
        ("R32 bar0 0x0\n", 4, "truncated line"),
        ("R32 bar0 0x0 0x1 x5 extra\n", 4, "too many fields"),
        ("W8 bar0 0x0 0x100\n", 4, "does not fit 8 bits"),
        ("R32 bar1 0x0 0x1\n", 4, "bar1 is not declared"),
        ("R32 bar0 0x1000 0x1\n", 4, "outside bar0"),
        ("R32 bar0 0x0 0x1 x0\n", 4, "bad repeat count"),
        ("MARK ok\nDATA buf1 0x0 00\n", 5, "DATA without a preceding 'DMA-SYNC cpu' line"),
        ("DMA-ALLOC buf1 0x10 to-device contiguous\nDMA-SYNC device buf1 0x0 0x10 crc32=0x0\nDATA buf1 0x0 00\n", 6, "after a 'DMA-SYNC device'"),
        ("DMA-ALLOC buf1 0x10 to-device contiguous\nDMA-SYNC cpu buf1 0x0 0x4 crc32=0x0\nDATA buf1 0x0 0001\n", 5, "cover 0x2 of 0x4 bytes"),
        ("DMA-ALLOC buf1 0x10 to-device contiguous\nDMA-SYNC cpu buf1 0x0 0x2 crc32=0x0\nDATA buf1 0x0 0001\n", 5, "crc32=0x"),
        ("DMA-ALLOC buf1 0x10 to-device contiguous\nDMA-SYNC cpu buf1 0x0 0x4 crc32=0x0\nDATA buf1 0x1 00\n", 6, "should be 0x0"),
        ("DMA-FREE buf3\n", 4, "buf3 is not allocated"),
        ("W32 bar0 0x10 lo:buf2+0x0\n", 4, "buf2 is not allocated"),
        ("DMA-ALLOC buf1 0x10 to-device contiguous\nW32 bar0 0x10 buf1+0x0\n", 5, "needs a 64-bit write"),
        ("DMA-ALLOC buf1 0x10 to-device contiguous\nDMA-ALLOC buf1 0x10 to-device contiguous\n", 5, "already allocated"),
        ("DMA-ALLOC buf1 0x10 sideways contiguous\n", 4, "unknown direction"),
        ("DMA-ALLOC buf1 0x2000 to-device contiguous bus=0x1000/0x1000\n", 4, "cover 0x1000 of 0x2000"),
        ("IRQ v0 1\n", 4, "before any IRQ-ENABLE"),
        ("IRQ-ENABLE msi 1\nIRQ v0 0\n", 5, "count must be ≥ 1"),
        ("IRQ-ENABLE sometimes 1\n", 4, "unknown interrupt kind"),
        ("R32 bar0 0x0 0x1\nBAR 1 mem 0x1000\n", 5, "BAR lines must come before the first event"),
        ("R32 bar0 0x0 0x1\nDEVICE 0000:00:02.0 1234:11e8\n", 5, "second DEVICE"),
        ("RESET now\n", 4, "too many fields"),
    ]

    @Test(arguments: 0..<malformed.count)
    func malformedLinesReportTheirLine(_ i: Int) throws {
        let (body, line, message) = Self.malformed[i]
        let failure = try #require(traceFormatFailure { _ = try Trace.parse(Self.head + body, fileName: "bad.trace") })
        #expect(failure.file == "bad.trace")
        #expect(failure.line == line, "\(failure.message)")
        #expect(failure.message.contains(message), "message was: \(failure.message)")
    }

    @Test func headerProblemsAreReported() {
        func failure(_ text: String) -> (line: Int, message: String)? {
            traceFormatFailure { _ = try Trace.parse(text) }.map { ($0.line, $0.message) }
        }
        #expect(failure("DEVICE 0000:00:01.0 1234:11e8\n")?.message.contains("first line must be") == true)
        #expect(failure("VERSION 20070824\nPCIDEV 0010 808610d3 b\n")?.message.contains("mmiotrace") == true)
        #expect(failure("# busmaster-trace 2\n")?.message.contains("version 2 is not supported") == true)
        #expect(failure("") != nil)
        let noDevice = failure("# busmaster-trace 1\n# just a comment\n")
        #expect(noDevice?.line == 3)
        #expect(noDevice?.message.contains("no DEVICE line") == true)
        #expect(failure("# busmaster-trace 1\nRESET\n")?.message.contains("before the DEVICE line") == true)
    }

    @Test func aTruncatedFileIsAnErrorAtItsLastLine() throws {
        let text = Self.everyEvent.render()
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        // Cut in the middle of the second DATA line: it has an odd number of hex digits.
        let dataLine = try #require(lineNumber(of: "DATA buf2 0x30", in: text))
        let cut = lines[0..<(dataLine - 1)].joined(separator: "\n") + "\n" + lines[dataLine - 1].prefix(40)
        let f1 = try #require(traceFormatFailure { _ = try Trace.parse(cut, fileName: "cut.trace") })
        #expect(f1.line == dataLine)
        #expect(f1.message.contains("odd number of hex digits"))
        // Cut after a whole DATA line: the sync before it is incomplete.
        let cut2 = lines[0..<dataLine].joined(separator: "\n") + "\n"
        let f2 = try #require(traceFormatFailure { _ = try Trace.parse(cut2, fileName: "cut.trace") })
        #expect(f2.line == dataLine - 2)
        #expect(f2.message.contains("truncated file"))
        // Cut in the middle of a register line.
        let writeLine = try #require(lineNumber(of: "W32 bar0 0x0004", in: text))
        let cut3 = lines[0..<(writeLine - 1)].joined(separator: "\n") + "\n" + lines[writeLine - 1].prefix(14)
        let f3 = try #require(traceFormatFailure { _ = try Trace.parse(cut3, fileName: "cut.trace") })
        #expect(f3.line == writeLine)
        #expect(f3.message.contains("truncated line"))
    }

    @Test func crc32MatchesTheStandardCheckValue() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([UInt8]()) == 0)
    }

    @Test func traceFilesRoundTripAndOpenErrorsNameThePath() throws {
        let path = "/tmp/busmaster-trace-test-\(getpid()).trace"
        defer { unlink(path) }
        try Self.everyEvent.write(to: path)
        let loaded = try Trace.load(path: path)
        #expect(loaded == Self.everyEvent)
        #expect(loaded.fileName == path)
        let loadError = #expect(throws: BusmasterError.self) { _ = try Trace.load(path: "/nonexistent-dir/x.trace") }
        #expect(loadError.map { "\($0)" }?.contains("/nonexistent-dir/x.trace") == true)
        let createError = #expect(throws: BusmasterError.self) { _ = try TraceFileWriter(path: "/nonexistent-dir/x.trace") }
        #expect(createError.map { "\($0)" }?.contains("creating trace file '/nonexistent-dir/x.trace'") == true)
    }
}

#if canImport(Glibc)
    import Glibc
#endif
