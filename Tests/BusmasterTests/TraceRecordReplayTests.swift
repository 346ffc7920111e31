import Testing

@testable import Busmaster

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Trace record and replay")
struct TraceRecordReplayTests {
    // MARK: Recording

    @Test func recordingCapturesTheDriverSessionWithFoldedPollsAndSymbolicAddresses() throws {
        let trace = try recordFakeSession(busBase: 0x2_0000_0000, busyPolls: 5)
        let text = trace.render()
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.contains("DEVICE 0000:00:03.0 1234:11e8 class=00ff00 rev=10 subsys=1af4:1100"))
        #expect(lines.contains("BAR 0 mem 0x1000 32bit"))
        // enable(): read-modify-write of COMMAND.
        #expect(lines.contains("CR16 0x004 0x0000"))
        #expect(lines.contains("CW16 0x004 0x0006"))
        #expect(lines.contains("R32 bar0 0x0000 0x010000ed"))
        #expect(lines.contains("W32 bar0 0x0004 0x12345678"))
        #expect(lines.contains("DMA-ALLOC buf1 0x30 to-device contiguous bus=0x200000000/0x30"))
        #expect(lines.contains("DMA-ALLOC buf2 0x30 from-device contiguous bus=0x200002000/0x30"))
        // Addresses above 4 GiB written as two 32-bit halves, and one 64-bit write.
        #expect(lines.contains("W32 bar0 0x0010 lo:buf1+0x0"))
        #expect(lines.contains("W32 bar0 0x0014 hi:buf1+0x0"))
        #expect(lines.contains("W32 bar0 0x0018 lo:buf2+0x0"))
        #expect(lines.contains("W32 bar0 0x001c hi:buf2+0x0"))
        #expect(lines.contains("W64 bar0 0x0028 buf2+0x10"))
        // A length of 0x30 that is also the low half of an address inside buf1 stays literal,
        // because the next write (the start command) does not complete that address.
        #expect(lines.contains("W32 bar0 0x0020 0x00000030"))
        #expect(lines.contains("W32 bar0 0x0024 0x00000001"))
        #expect(lines.contains("IRQ-ENABLE msi 1"))
        #expect(lines.contains("IRQ v0 1"))
        // Five busy polls folded into one line, then the changed value.
        #expect(lines.contains("R32 bar0 0x0008 0x00000001 x5"))
        #expect(lines.contains("R32 bar0 0x0008 0x00000000"))
        let crc = CRC32.checksum(fakePayload)
        #expect(lines.contains("DMA-SYNC device buf1 0x0 0x30 crc32=0x" + hex(crc, 8)))
        #expect(lines.contains("DMA-SYNC cpu buf2 0x0 0x30 crc32=0x" + hex(crc, 8)))
        #expect(lines.contains("DATA buf2 0x0 " + TraceFormat.hexBytes(fakePayload[0..<32])))
        #expect(lines.contains("DATA buf2 0x20 " + TraceFormat.hexBytes(fakePayload[32..<48])))
        #expect(lines.suffix(3) == ["DMA-FREE buf1", "DMA-FREE buf2", "IRQ-DISABLE"])
        // What was recorded parses back to the same trace.
        #expect(try Trace.parse(text) == trace)
    }

    @Test func addressesBelow4GiBUseLowHalvesWithAZeroHighHalf() throws {
        let trace = try recordFakeSession(busBase: 0x8000_0000)
        let lines = trace.render().split(separator: "\n").map(String.init)
        #expect(lines.contains("W32 bar0 0x0010 lo:buf1+0x0"))
        #expect(lines.contains("W32 bar0 0x0014 hi:buf1+0x0"))
        #expect(lines.contains("W64 bar0 0x0028 buf2+0x10"))
        #expect(lines.contains("W32 bar0 0x0020 0x00000030"))
    }

    @Test func addressPairsAreRecognisedInEitherOrderAndOnlyAsPairs() {
        var c = RecordingCoalescer()
        c.addresses.add(buffer: 7, segments: [DMASegment(busAddress: 0x3_0000_0000, length: 0x2000, bufferOffset: 0)])
        var out: [TraceEvent] = []
        func w(_ off: Int, _ v: UInt64) { c.add(.write(bar: 0, offset: off, width: .dword, value: .literal(v))) { out.append($0) } }
        w(0x84, 0x3)  // high half first
        w(0x80, 0x1040)
        w(0x90, 0x1040)  // a low half not followed by its high half
        w(0x98, 0x3)  // a high half not preceded... and followed by a read
        c.add(.read(bar: 0, offset: 0, width: .dword, value: 0, count: 1)) { out.append($0) }
        c.flush { out.append($0) }
        #expect(
            out == [
                .write(bar: 0, offset: 0x84, width: .dword, value: .busAddress(buffer: 7, offset: 0x1040, part: .high)),
                .write(bar: 0, offset: 0x80, width: .dword, value: .busAddress(buffer: 7, offset: 0x1040, part: .low)),
                .write(bar: 0, offset: 0x90, width: .dword, value: .literal(0x1040)),
                .write(bar: 0, offset: 0x98, width: .dword, value: .literal(0x3)),
                .read(bar: 0, offset: 0, width: .dword, value: 0, count: 1),
            ])
    }

    @Test func consecutiveIdenticalReadsFoldAndDifferentOnesDoNot() {
        var c = RecordingCoalescer()
        var out: [TraceEvent] = []
        func r(_ off: Int, _ v: UInt64) { c.add(.read(bar: 0, offset: off, width: .dword, value: v, count: 1)) { out.append($0) } }
        for _ in 0..<57 { r(0x20, 1) }
        r(0x20, 0)
        r(0x24, 0)
        r(0x24, 0)
        c.add(.configRead(offset: 6, width: .word, value: 0x10, count: 1)) { out.append($0) }
        c.add(.configRead(offset: 6, width: .word, value: 0x10, count: 1)) { out.append($0) }
        c.flush { out.append($0) }
        #expect(
            out == [
                .read(bar: 0, offset: 0x20, width: .dword, value: 1, count: 57),
                .read(bar: 0, offset: 0x20, width: .dword, value: 0, count: 1),
                .read(bar: 0, offset: 0x24, width: .dword, value: 0, count: 2),
                .configRead(offset: 6, width: .word, value: 0x10, count: 2),
            ])
    }

    @Test func recordingToAFileGivesTheSameTrace() throws {
        let path = "/tmp/busmaster-record-test-\(getpid()).trace"
        defer { unlink(path) }
        let dev = try TraceRecorder.record(FakeTraceDevice(), to: path)
        #expect(dev.platformName == "fake+trace")
        TraceRecorder.recorder(of: dev)?.mark("driver start")
        let out = try runFakeDriver(dev, payload: fakePayload)
        #expect(out == fakePayload)
        #expect(TraceRecorder.recorder(of: dev)?.writeError == nil)
        var expected = try recordFakeSession()
        expected.events.insert(.mark("driver start"), at: 0)
        let fromFile = try Trace.load(path: path)
        #expect(fromFile == expected)
    }

    @Test func theFileIsFlushedWhileRecordingAndTheSnapshotShowsHeldEvents() throws {
        let path = "/tmp/busmaster-flush-test-\(getpid()).trace"
        defer { unlink(path) }
        let writer = try TraceFileWriter(path: path, flushInterval: 100)
        let recorder = TracingBackend(wrapping: FakeTraceDevice(), writer: writer)
        let dev = PCIDevice(backend: recorder)
        let bar = try dev.bar(0)
        for i in 0..<250 { bar.write(FakeRegs.scratch, UInt32(i)) }
        // Two flushes of 100 lines have happened (header lines count too).
        let partial = try TextFile.read(path: path, what: "test").split(separator: "\n")
        #expect(partial.count >= 200)
        #expect(partial.count < 253)
        #expect(partial.first == "# busmaster-trace 1")
        // A poll in progress is not written yet, but a memory snapshot shows it.
        let (memDev, memRecorder) = TraceRecorder.recordInMemory(FakeTraceDevice())
        let memBar = try memDev.bar(0)
        for _ in 0..<3 { _ = memBar.read(FakeRegs.scratch) }
        #expect(memRecorder.recordedTrace?.events.last == .read(bar: 0, offset: 4, width: .dword, value: 0, count: 3))
        _ = memBar.read(FakeRegs.scratch)
        #expect(memRecorder.recordedTrace?.events.last == .read(bar: 0, offset: 4, width: .dword, value: 0, count: 4))
        memDev.close()
        dev.close()
        try recorder.finish()
        let full = try Trace.load(path: path)
        #expect(full.events.count == 250)
    }

    @Test func anOpenDeviceCanBeRecordedAndTheOriginalBecomesInert() throws {
        let fake = FakeTraceDevice()
        var original: PCIDevice? = PCIDevice(backend: fake)
        let (dev, recorder) = try TraceRecorder.recordInMemory(original!)
        original = nil
        #expect(fake.closes == 0)
        #expect(try runFakeDriver(dev, payload: fakePayload) == fakePayload)
        #expect(fake.closes >= 1)
        #expect(recorder.recordedTrace == (try recordFakeSession()))
    }

    @Test func concurrentAccessesAreAllRecorded() throws {
        let fake = FakeTraceDevice()
        let (dev, recorder) = TraceRecorder.recordInMemory(fake)
        let bar = try dev.bar(0)
        let threads = 4
        let perThread = 500
        final class Finished: @unchecked Sendable {
            let done = ConditionLock()
            var count = 0
        }
        let finished = Finished()
        for t in 0..<threads {
            startThread(name: "writer-\(t)") {
                for i in 0..<perThread { bar.write(FakeRegs.scratch, UInt32(t << 16 | i)) }
                finished.done.withLock { finished.count += 1 }
                finished.done.broadcast()
            }
        }
        let deadline = Deadline(timeout: .seconds(10))
        finished.done.withLock {
            while finished.count < threads && !deadline.hasExpired {
                finished.done.wait(untilMonotonicNanos: deadline.monotonicNanos)
            }
        }
        #expect(finished.done.withLock { finished.count } == threads)
        dev.close()
        let writes = recorder.recordedTrace!.events.filter {
            if case .write(0, FakeRegs.scratch.offset, .dword, _) = $0 { return true }
            return false
        }
        #expect(writes.count == threads * perThread)
    }

    // MARK: Replay

    @Test(arguments: [true, false])
    func replayOfARecordedSessionSucceedsAndFillsData(recordBusAddresses: Bool) throws {
        let fake = FakeTraceDevice(busBase: 0x2_0000_0000)
        let (dev, recorder) = TraceRecorder.recordInMemory(fake, options: .init(recordBusAddresses: recordBusAddresses))
        _ = try runFakeDriver(dev, payload: fakePayload)
        let text = recorder.recordedTrace!.render()
        #expect(text.contains("bus=") == recordBusAddresses)
        let trace = try Trace.parse(text, fileName: "session.trace")

        let platform = ReplayPlatform(trace: trace)
        #expect(try platform.devices().map(\.idString) == ["1234:11e8"])
        let replayed = try platform.open(PCIAddress(bus: 0, device: 3, function: 0))
        #expect(replayed.platformName == "replay")
        // The driver gets the device's data from the DATA lines; the replay never copies.
        let out = try runFakeDriver(replayed, payload: fakePayload)
        #expect(out == fakePayload)
        #expect(platform.replay?.divergence == nil)
        try platform.finish()
    }

    @Test func replayUsesRecordedBusAddressesWhenPresent() throws {
        let text = TraceFormatTests.head + """
            DMA-ALLOC buf1 0x30 to-device contiguous bus=0x200000000/0x30
            DMA-ALLOC buf2 0x2000 from-device sg bus=0x300001000/0x1000,0x300000000/0x1000

            """
        let dev = PCIDevice(backend: TraceReplayBackend(trace: try Trace.parse(text)))
        let a = try dev.allocateDMABuffer(size: 0x30, direction: .toDevice)
        #expect(a.busAddress() == 0x2_0000_0000)
        #expect(Int(bitPattern: a.bytes.baseAddress) % 4096 == 0)
        let b = try dev.allocateDMABuffer(size: 0x2000, direction: .fromDevice, constraints: .init(contiguous: false))
        #expect(b.segments.map(\.busAddress) == [0x3_0000_1000, 0x3_0000_0000])
        #expect(b.busAddress(at: 0x1008) == 0x3_0000_0008)
        dev.close()
    }

    @Test func replayWithoutRecordedAddressesUsesFakeAddressesBelow4GiB() throws {
        let text = TraceFormatTests.head + """
            DMA-ALLOC buf1 0x30 to-device contiguous
            DMA-LOCK buf2 0x30 from-device

            """
        let dev = PCIDevice(backend: TraceReplayBackend(trace: try Trace.parse(text)))
        let a = try dev.allocateDMABuffer(size: 0x30, direction: .toDevice)
        let memory = UnsafeMutableRawBufferPointer.allocate(byteCount: 0x30, alignment: 64)
        defer { memory.deallocate() }
        let b = try dev.lockDMABuffer(memory, direction: .fromDevice)
        #expect(a.busAddress() == ReplayBusAllocator.base)
        #expect(b.busAddress() > a.busAddress() + 0x30)
        #expect(b.busAddress() < 1 << 32)
        #expect(b.bytes.baseAddress == memory.baseAddress)
        #expect(b.isCallerMemory)
        dev.close()
    }

    @Test func aChangedWriteValueIsReportedWithLineAndContext() throws {
        let original = try recordFakeSession().render()
        let altered = original.replacingFirst("W32 bar0 0x0004 0x12345678", with: "W32 bar0 0x0004 0x12345679")
        let line = try #require(lineNumber(of: "W32 bar0 0x0004 0x12345679", in: altered))
        let replay = TraceReplayBackend(trace: try Trace.parse(altered, fileName: "altered.trace"))
        let dev = PCIDevice(backend: replay)
        // After the divergence reads return all-ones and the driver gives up quickly.
        #expect(throws: BusmasterError.self) { _ = try runFakeDriver(dev, payload: fakePayload) }
        let report = try #require(replay.divergenceReport)
        #expect(report.file == "altered.trace")
        #expect(report.line == line)
        #expect(report.expected == "W32 bar0 0x0004 0x12345679")
        #expect(report.actual == "W32 bar0 0x0004 0x12345678")
        let textLines = altered.split(separator: "\n").map(String.init)
        #expect(report.context == (line - 3..<line).map { "\($0): \(textLines[$0 - 1])" })
        #expect(report.context.last == "\(line - 1): R32 bar0 0x0000 0x010000ed")
        #expect(replay.divergence == report.error)
        #expect(throws: report.error) { try replay.finish() }
        #expect("\(report.error)".contains("altered.trace:\(line): expected `W32 bar0 0x0004 0x12345679`"))
    }

    @Test func afterADivergenceReadsAreAllOnesAndThrowingCallsThrowIt() throws {
        let text = TraceFormatTests.head + "W32 bar0 0x0 0x1\nR32 bar0 0x4 0x5\nCR16 0x0 0x1234\n"
        let replay = TraceReplayBackend(trace: try Trace.parse(text))
        let dev = PCIDevice(backend: replay)
        let bar = try dev.bar(0)
        bar.write32(2, at: 0)
        #expect(replay.divergenceReport?.line == 4)
        #expect(replay.divergenceReport?.actual == "W32 bar0 0x0000 0x00000002")
        #expect(bar.read32(at: 4) == .max)
        let error = #expect(throws: BusmasterError.self) { _ = try dev.config.read16(at: 0) }
        #expect(error == replay.divergence)
    }

    @Test func extraAccessesAfterTheEndAndMissingOnesAreDivergences() throws {
        let text = TraceFormatTests.head + "W32 bar0 0x0 0x1\nRESET\n"
        let extra = TraceReplayBackend(trace: try Trace.parse(text, fileName: "t"))
        let extraDevice = PCIDevice(backend: extra)
        let bar = try extraDevice.bar(0)
        bar.write32(1, at: 0)
        try extraDevice.reset()
        bar.write32(1, at: 0)
        extraDevice.close()
        let report = try #require(extra.divergenceReport)
        #expect(report.expected == nil)
        #expect(report.line == 6)
        #expect(report.description.contains("the trace has ended"))

        let short = TraceReplayBackend(trace: try Trace.parse(text, fileName: "t"))
        let shortDevice = PCIDevice(backend: short)
        try shortDevice.bar(0).write32(1, at: 0)
        shortDevice.close()
        let error = #expect(throws: BusmasterError.self) { try short.finish() }
        #expect(error.map { "\($0)" }?.contains("t:5: driver stopped at line 5 (`RESET`), 1 event not replayed") == true)
    }

    @Test func pollLoopsMayRunFewerOrMoreTimesThanRecorded() throws {
        let text = TraceFormatTests.head + """
            R32 bar0 0x0008 0x00000001 x5
            R32 bar0 0x0008 0x00000000
            W32 bar0 0x0004 0x00000001
            R32 bar0 0x0008 0x00000001 x5
            W32 bar0 0x0004 0x00000002

            """
        let replay = TraceReplayBackend(trace: try Trace.parse(text))
        let dev = PCIDevice(backend: replay)
        let bar = try dev.bar(0)
        // More polls than recorded: the changed value comes after the 5 recorded ones, and
        // is served again while the driver keeps polling.
        let first = (0..<8).map { _ in bar.read32(at: 8) }
        #expect(first == [1, 1, 1, 1, 1, 0, 0, 0])
        bar.write32(1, at: 4)
        // Fewer polls than recorded: the driver moves on after 2.
        #expect(bar.read32(at: 8) == 1)
        #expect(bar.read32(at: 8) == 1)
        bar.write32(2, at: 4)
        dev.close()
        #expect(replay.divergence == nil)
        try replay.finish()
    }

    @Test func aPollLoopRecordedWithAnotherRepeatCountReplays() throws {
        // Recorded with 9 busy polls; the replay serves them, and the same trace edited to 2
        // polls replays too, since the driver polls until the value changes.
        let recorded = try recordFakeSession(busyPolls: 9).render()
        #expect(recorded.contains("R32 bar0 0x0008 0x00000001 x9"))
        for edited in [recorded, recorded.replacingFirst(" x9", with: " x2"), recorded.replacingFirst(" x9", with: "")] {
            let platform = ReplayPlatform(trace: try Trace.parse(edited))
            let out = try runFakeDriver(try platform.open(PCIAddress(bus: 0, device: 3, function: 0)), payload: fakePayload)
            #expect(out == fakePayload)
            try platform.finish()
        }
    }

    @Test func differentDataForTheDeviceIsACRCDivergence() throws {
        let trace = try recordFakeSession()
        let text = trace.render()
        let syncLine = try #require(lineNumber(of: "DMA-SYNC device buf1", in: text))
        let replay = TraceReplayBackend(trace: try Trace.parse(text, fileName: "crc.trace"))
        var other = fakePayload
        other[5] ^= 0xFF
        #expect(throws: BusmasterError.self) { _ = try runFakeDriver(PCIDevice(backend: replay), payload: other) }
        let report = try #require(replay.divergenceReport)
        #expect(report.line == syncLine)
        #expect(report.actual == "DMA-SYNC device buf1 0x0 0x30 crc32=0x" + hex(CRC32.checksum(other), 8))
        #expect(report.note == "the data the driver gave the device differs from the recording")
    }

    @Test func interruptTimeoutsReplayAsTimeouts() throws {
        let text = TraceFormatTests.head + "IRQ-ENABLE msi 1\nIRQ-TIMEOUT v0\nIRQ v0 3\nIRQ-DISABLE\n"
        let replay = TraceReplayBackend(trace: try Trace.parse(text))
        let dev = PCIDevice(backend: replay)
        #expect(dev.availableInterrupts == [.msi: 1])
        let irq = try dev.enableInterrupts()
        #expect(irq.kind == .msi)
        #expect(throws: BusmasterError.timeout("no MSI interrupt on vector 0 within 0.1 seconds")) {
            _ = try irq.wait(timeout: .milliseconds(100))
        }
        let event = try irq.wait(timeout: .seconds(1))
        #expect(event.count == 3)
        #expect(irq.lost == 2)
        irq.disable()
        dev.close()
        try replay.finish()
    }

    @Test func symbolicWritesResolveToTheReplaysOwnBuffers() throws {
        let text = TraceFormatTests.head + """
            DMA-ALLOC buf1 0x2000 bidirectional contiguous
            W32 bar0 0x0010 lo:buf1+0x1040
            W32 bar0 0x0014 hi:buf1+0x1040
            W64 bar0 0x0018 buf1+0x8

            """
        let replay = TraceReplayBackend(trace: try Trace.parse(text))
        let dev = PCIDevice(backend: replay)
        let buf = try dev.allocateDMABuffer(size: 0x2000, direction: .bidirectional)
        #expect(buf.id == 1)
        let bar = try dev.bar(0)
        let a = buf.busAddress(at: 0x1040)
        bar.write32(UInt32(truncatingIfNeeded: a), at: 0x10)
        bar.write32(UInt32(a >> 32), at: 0x14)
        bar.write64(buf.busAddress(at: 0x8) + 1, at: 0x18)  // off by one byte
        dev.close()
        let report = try #require(replay.divergenceReport)
        #expect(report.line == 7)
        #expect(report.actual.hasPrefix("W64 bar0 0x0018 0x"))
        #expect(report.actual.hasSuffix("(= buf1+0x9 in this replay)"))
        #expect(report.note == "buf1+0x8 is 0x\(String(buf.busAddress(at: 8), radix: 16)) in this replay")
    }
}

extension String {
    /// The string with the first occurrence of `target` replaced.
    func replacingFirst(_ target: String, with replacement: String) -> String {
        replacing(target, with: replacement, maxReplacements: 1)
    }
}
