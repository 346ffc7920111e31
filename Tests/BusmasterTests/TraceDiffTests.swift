import Testing

@testable import Busmaster

@Suite("Trace diff")
struct TraceDiffTests {
    @Test func tracesDifferingOnlyInPollCountsCommentsAndBusAddressesAreEqual() throws {
        let a = try recordFakeSession(busBase: 0x2_0000_0000, busyPolls: 3)
        var b = try recordFakeSession(busBase: 0x3_0000_0000, busyPolls: 40)
        b.events.insert(.comment("recorded on another machine"), at: 4)
        b.device.address = PCIAddress(bus: 5, device: 0, function: 0)
        #expect(a != b)
        let c = TraceDiff.compare(a, b)
        #expect(c.isEqual)
        #expect(c.hunks.isEmpty)
        #expect(c.rendered.contains("events are equal"))
    }

    @Test func aChangedWriteShowsBothLinesWithTheirNumbersAndContext() throws {
        let textA = try recordFakeSession().render()
        var textB = textA.replacingFirst("W32 bar0 0x0004 0x12345678", with: "W32 bar0 0x0004 0xcafef00d")
        // Insert a comment before the change so the line numbers differ between the files.
        textB = textB.replacingFirst("R32 bar0 0x0000", with: "# identify\nR32 bar0 0x0000")
        let a = try Trace.parse(textA, fileName: "a.trace")
        let b = try Trace.parse(textB, fileName: "b.trace")
        let lineA = try #require(lineNumber(of: "W32 bar0 0x0004", in: textA))
        let lineB = try #require(lineNumber(of: "W32 bar0 0x0004", in: textB))
        #expect(lineB == lineA + 1)
        let c = TraceDiff.compare(a, b)
        #expect(!c.isEqual)
        #expect(c.deviceDifferences.isEmpty)
        #expect(c.hunks.count == 1)
        let h = try #require(c.hunks.first)
        #expect(h.removed == [TraceDiffLine(kind: .removed, lineA: lineA, lineB: nil, text: "W32 bar0 0x0004 0x12345678")])
        #expect(h.added == [TraceDiffLine(kind: .added, lineA: nil, lineB: lineB, text: "W32 bar0 0x0004 0xcafef00d")])
        // Two lines of context on each side.
        #expect(h.lines.first == TraceDiffLine(kind: .common, lineA: lineA - 2, lineB: lineB - 3, text: "CW16 0x004 0x0006"))
        #expect(h.lines.filter { $0.kind == .common }.count == 4)
        let r = c.rendered
        #expect(r.contains("--- a.trace\n+++ b.trace\n"))
        #expect(r.contains("@@ a.trace:\(lineA - 2) b.trace:\(lineB - 3) @@"))
        let removedLine = try #require(r.split(separator: "\n").first { $0.hasSuffix("W32 bar0 0x0004 0x12345678") })
        #expect(removedLine.hasPrefix("-"))
        #expect(removedLine.contains("\(lineA)|"))
        let addedLine = try #require(r.split(separator: "\n").first { $0.hasSuffix("W32 bar0 0x0004 0xcafef00d") })
        #expect(addedLine.hasPrefix("+"))
        #expect(addedLine.split(separator: "|")[1].trimmingPrefix(while: { $0 == " " }).hasPrefix("\(lineB) "))
    }

    @Test func insertedAndRemovedEventsAreFound() throws {
        let head = TraceFormatTests.head
        let a = try Trace.parse(head + "W32 bar0 0x0 0x1\nW32 bar0 0x4 0x2\nW32 bar0 0x8 0x3\nRESET\n", fileName: "a")
        let b = try Trace.parse(head + "W32 bar0 0x0 0x1\nW32 bar0 0x8 0x3\nMARK new\nRESET\n", fileName: "b")
        let c = TraceDiff.compare(a, b, options: .init(contextLines: 0))
        #expect(c.hunks.count == 2)
        #expect(c.hunks[0].removed.map(\.lineA) == [5])
        #expect(c.hunks[0].added.isEmpty)
        #expect(c.hunks[1].added.map(\.text) == ["MARK new"])
        #expect(c.hunks[1].added.map(\.lineB) == [6])
        #expect(TraceDiff.compare(a, b, options: .init(ignoreMarks: true)).hunks.count == 1)
    }

    @Test func deviceIDsAreReportedSeparately() throws {
        let a = try Trace.parse(TraceFormatTests.head + "RESET\n")
        var b = a
        b.device.deviceID = 0x11E9
        b.device.bars = []
        let c = TraceDiff.compare(a, b)
        #expect(c.eventsEqual)
        #expect(!c.isEqual)
        #expect(c.deviceDifferences == ["vendor:device 1234:11e8 vs 1234:11e9"])
        #expect(c.rendered.contains("device: vendor:device 1234:11e8 vs 1234:11e9"))
    }

    @Test func hugeDifferencesAreCappedAndShowTheFirstOne() throws {
        let dev = TraceFormatTests.device
        let a = Trace(device: dev, events: (0..<3000).map { .write(bar: 0, offset: 0, width: .dword, value: .literal(UInt64($0))) }, fileName: "a")
        let b = Trace(device: dev, events: (0..<3000).map { .write(bar: 0, offset: 0, width: .dword, value: .literal(UInt64($0 == 0 ? 0 : $0 + 5000))) }, fileName: "b")
        let c = TraceDiff.compare(a, b, options: .init(maxDifferences: 100))
        #expect(c.isTruncated)
        #expect(!c.isEqual)
        let h = try #require(c.hunks.first)
        #expect(h.removed.first?.text == "W32 bar0 0x0000 0x00000001")
        #expect(h.added.first?.text == "W32 bar0 0x0000 0x00001389")
        #expect(c.rendered.contains("more differences follow"))
    }

    @Test func editScriptIsMinimal() throws {
        let a = [1, 2, 3, 4, 5, 6]
        let b = [1, 3, 4, 7, 5, 6, 8]
        let ops = try #require(EditScript.compute(a, b, maxEdits: 10))
        let edits = ops.filter { if case .equal = $0 { return false } else { return true } }
        #expect(edits.count == 3)  // delete 2, insert 7, insert 8
        // Applying the script to a gives b.
        var rebuilt: [Int] = []
        for op in ops {
            switch op {
            case .equal(let i, _): rebuilt.append(a[i])
            case .insert(let j): rebuilt.append(b[j])
            case .delete: break
            }
        }
        #expect(rebuilt == b)
        #expect(EditScript.compute(a, b, maxEdits: 2) == nil)
    }
}

/// A poll the device had already finished (zero waiting reads) is timing, not behaviour.
@Test func aPollThatNeverWaitedMatchesOneThatDid() throws {
    let header = "# busmaster-trace 1\nDEVICE 0000:00:01.0 1234:11e8\nBAR 0 mem 0x100000 32bit\n"
    let waited = try Trace.parse(header + "W32 bar0 0x0008 0x0000000a\nR32 bar0 0x0020 0x00000001 x3\nR32 bar0 0x0020 0x00000000\nR32 bar0 0x0008 0x00375f00\n")
    let quick = try Trace.parse(header + "W32 bar0 0x0008 0x0000000a\nR32 bar0 0x0020 0x00000000\nR32 bar0 0x0008 0x00375f00\n")
    #expect(TraceDiff.compare(waited, quick).isEqual)
    // But a different exit value is a difference.
    let wrong = try Trace.parse(header + "W32 bar0 0x0008 0x0000000a\nR32 bar0 0x0020 0x00000001\nR32 bar0 0x0008 0x00375f00\n")
    #expect(!TraceDiff.compare(waited, wrong).isEqual)
}
