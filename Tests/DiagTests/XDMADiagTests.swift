import Foundation
import Testing

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// xdma-diag as a user runs it against the simulated card: output, JSON, files, exit codes.
@Suite struct XDMADiagTests {
    let diag = Tool(name: "xdma-diag")

    /// Runs xdma-diag and parses its standard output as JSON.
    func json(_ args: [String]) throws -> (Tool.Result, Any) {
        let r = try diag.run(args)
        #expect(r.status == 0, "\(args): \(r.all)")
        return (r, try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)))
    }

    // MARK: info

    @Test func infoShowsBARRolesEnginesVersionAndLink() throws {
        let r = try diag.run(["--simulate", "info"])
        #expect(r.status == 0, "\(r.all)")
        #expect(r.stdout.contains("[10ee:903f]"))
        #expect(r.stdout.contains("XDMA IP version 6 (2017.1 or later)"))
        #expect(r.stdout.contains("BAR0  user (AXI4-Lite master)"))
        #expect(r.stdout.contains("BAR1  DMA (control) registers"))
        #expect(r.stdout.contains("BAR2  DMA bypass (AXI-MM)"))
        for engine in ["H2C0  MM", "H2C1  MM", "C2H0  MM", "C2H1  MM"] { #expect(r.stdout.contains(engine), "\(engine)") }
        #expect(r.stdout.contains("alignment 1 B, granularity 1 B, 64 address bits"))
        #expect(r.stdout.contains("Datapath: 256 bits; IP reports MPS 256 B, MRRS 512 B"))
        #expect(r.stdout.contains("PCIe link: Gen3 (8 GT/s) x16"))
        #expect(r.stdout.contains("MSI-X 32 vectors (enabled), MSI 32 vectors (disabled), INTx pin INTA"))
        #expect(r.stdout.contains("Card memory: 256 MiB"))

        let (_, obj) = try json(["info", "--simulate", "--json"])
        let report = try #require(obj as? [String: Any])
        let engines = try #require(report["engines"] as? [[String: Any]])
        #expect(engines.map { $0["name"] as? String } == ["H2C0", "H2C1", "C2H0", "C2H1"])
        #expect(engines.allSatisfy { $0["interface"] as? String == "MM" })
        let bars = try #require(report["bars"] as? [[String: Any]])
        #expect(bars.map { $0["role"] as? String } == ["user", "dma", "bypass"])
        #expect((report["link"] as? [String: Any])?["width"] as? Int == 16)
        #expect(report["datapathBits"] as? Int == 256)

        let stream = try diag.run(["--simulate-stream", "info"])
        #expect(stream.status == 0 && stream.stdout.contains("H2C0  ST") && stream.stdout.contains("C2H1  ST"))
    }

    @Test func picksTheOnlyXDMAAndRefusesOtherDevices() throws {
        // The simulated board also carries QEMU's edu at 00:02.0; without --device the card is chosen.
        let chosen = try diag.run(["--simulate", "info"])
        #expect(chosen.stdout.hasPrefix("00:01.0"))
        let named = try diag.run(["--simulate", "info", "10ee:903f"])
        #expect(named.status == 0 && named.stdout.hasPrefix("00:01.0"))
        let edu = try diag.run(["--simulate", "--device", "00:02.0", "loopback"])
        #expect(edu.status != 0)
        #expect(edu.stderr.contains("00:02.0 [1234:11e8] is not an XDMA device"), "\(edu.all)")
        let twice = try diag.run(["--simulate", "info", "00:01.0", "--device", "00:02.0"])
        #expect(twice.status != 0 && twice.all.contains("the device is named twice"))
    }

    // MARK: registers

    @Test func readsIdentifierRegistersByNameAndByOffset() throws {
        let irq = try diag.run(["--simulate", "reg", "read", "IRQ_IDENTIFIER"])
        #expect(irq.status == 0)
        #expect(irq.stdout.contains("DMA BAR1[0x00002000] IRQ_IDENTIFIER = 0x1fc20006  (XDMA IRQ block, version 6)"))
        let c2h = try diag.run(["--simulate", "reg", "read", "0x1000"])
        #expect(c2h.stdout.contains("DMA BAR1[0x00001000] C2H0_IDENTIFIER = 0x1fc10006  (XDMA C2H channel, channel 0, AXI4-MM, version 6)"))
        let two = try diag.run(["--simulate", "reg", "read", "h2c1_identifier", "--count", "2"])
        #expect(two.stdout.contains("H2C1_IDENTIFIER = 0x1fc00106"))
        #expect(two.stdout.contains("[0x00000104] H2C1_CONTROL = 0x00000000"))

        let (_, obj) = try json(["--simulate", "--json", "reg", "read", "CONFIG_IDENTIFIER"])
        let values = try #require(obj as? [[String: Any]])
        let value = try #require(values.first?["value"] as? Int)
        #expect(value >> 16 == 0x1FC3, "config block identifier 0x1FC3xxxx")
        #expect(values.first?["offset"] as? Int == 0x3000)

        let range = try diag.run(["--simulate", "reg", "read", "H2C0_STATUS", "--count", "3"])
        #expect(range.stdout.contains("[0x00000040] H2C0_STATUS = 0x00000000"))
        #expect(range.stdout.contains("[0x00000044] H2C0_STATUS_RC (not read: reading clears it)"), "a range skips read-to-clear registers")
        #expect(range.stdout.contains("[0x00000048] H2C0_COMPLETED_DESC_COUNT = 0x00000000"))

        let list = try diag.run(["--simulate", "reg", "list", "--match", "IRQ", "--values"])
        #expect(list.stdout.contains("0x00002000  IRQ_IDENTIFIER"))
        #expect(list.stdout.contains("0x1fc20006"))
        #expect(!list.stdout.contains("H2C0_CONTROL"))
    }

    @Test func writesUserAndBypassBARsAndReadsBack() throws {
        let user = try diag.run(["--simulate", "reg", "write", "0x8", "0xcafe", "--bar", "user", "--read-back"])
        #expect(user.status == 0 && user.stdout.contains("USER BAR0[0x00000008] <- 0x0000cafe; reads back 0x0000cafe"), "\(user.all)")
        let bypass = try diag.run(["--simulate", "reg", "write", "0x10", "0x1122334455667788", "--bar", "bypass", "--width", "64", "--read-back"])
        #expect(bypass.stdout.contains("reads back 0x1122334455667788"), "\(bypass.all)")
        let engine = try diag.run(["--simulate", "reg", "write", "H2C0_PERF_CONTROL", "0x4", "--read-back"])
        #expect(engine.stdout.contains("H2C0_PERF_CONTROL <- 0x00000004; reads back 0x00000004"), "\(engine.all)")
    }

    // MARK: DMA

    @Test func toDeviceWithPatternReadsBackAndVerifies() throws {
        let (r, obj) = try json([
            "--simulate", "to-device", "-s", "64K", "-c", "3", "--pattern", "0x12345678", "--verify", "-a", "0x2000", "-o", "100", "--json",
        ])
        let report = try #require(obj as? [String: Any])
        let stats = try #require(report["statistics"] as? [String: Any])
        #expect(stats["bytes"] as? Int == 3 * 65536)
        #expect(stats["transfers"] as? Int == 3)
        #expect((stats["megabytesPerSecond"] as? Double ?? 0) > 0)
        #expect(report["verified"] as? Bool == true)
        #expect(report["engine"] as? String == "H2C0" && report["cardAddress"] as? Int == 0x2000 && report["hostOffset"] as? Int == 100)
        #expect(!r.stderr.contains("\r"), "no progress output when stderr is not a terminal")

        let text = try diag.run(["--simulate", "to-device", "-s", "4K", "--channel", "1", "--verify"])
        #expect(text.status == 0)
        #expect(text.stdout.contains("H2C1 (MM, MSI-X interrupts): 1 transfer(s) of 4096 bytes"))
        #expect(text.stdout.contains("verify: OK, the data read back matches"))
        #expect(text.stdout.contains("** Average BW = 4096, "))
    }

    @Test func fromDeviceVerifiesAgainstThePattern() throws {
        // A freshly simulated card's memory is zero: the zero pattern matches, the counter does not.
        let zero = try diag.run(["--simulate", "from-device", "-s", "8K", "-c", "2", "--verify", "--pattern", "zero", "--completion", "poll"])
        #expect(zero.status == 0, "\(zero.all)")
        #expect(zero.stdout.contains("C2H0 (MM, poll-mode writeback): 2 transfer(s) of 8192 bytes"))
        #expect(zero.stdout.contains("verify: OK, data matches"))
        #expect(zero.stdout.contains("000: 00 00 00 00"))
        let counter = try diag.run(["--simulate", "from-device", "-s", "4K", "--verify"])
        #expect(counter.status != 0)
        #expect(counter.stderr.contains("verify failed: 1788 byte(s) differ in transfer 1; first at offset 0x4: expected 0x01, got 0x00"), "\(counter.all)")
    }

    @Test func fileRoundTripThroughCardMemory() throws {
        let input = temporaryPath("xdma-in.bin")
        let output = temporaryPath("xdma-out.bin")
        var bytes = [UInt8](repeating: 0, count: 10_000)
        for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: i &* 7 &+ i >> 8) }
        try Data(bytes).write(to: URL(fileURLWithPath: input))
        let r = try diag.run(["--simulate", "to-device", "-f", input, "-w", output, "-a", "0x3000", "-o", "7", "--verify"])
        #expect(r.status == 0, "\(r.all)")
        #expect(r.stdout.contains("1 transfer(s) of 10000 bytes from host buffer offset 7 to card address 0x3000"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: output)) == Data(bytes))

        let received = temporaryPath("xdma-received.bin")
        let c2h = try diag.run(["--simulate", "from-device", "-s", "3000", "--output", received])
        #expect(c2h.status == 0 && c2h.stdout.contains("data written to \(received)"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: received)) == Data(count: 3000))

        let short = try diag.run(["--simulate", "to-device", "-f", input, "-s", "20000"])
        #expect(short.status != 0 && short.stderr.contains("has 10000 bytes but --size asks for 20000"))
    }

    @Test func loopbackVerifiesAndReportsEachDirection() throws {
        let (_, obj) = try json(["--simulate", "loopback", "-s", "1M", "-c", "2", "-a", "0x100000", "--json"])
        let report = try #require(obj as? [String: Any])
        #expect(report["verified"] as? Bool == true)
        #expect(report["engines"] as? String == "H2C0 -> C2H0")
        for direction in ["h2c", "c2h"] {
            let s = try #require(report[direction] as? [String: Any])
            #expect(s["bytes"] as? Int == 2 << 20 && s["transfers"] as? Int == 2)
            #expect((s["megabytesPerSecond"] as? Double ?? 0) > 0)
        }
        let text = try diag.run(["--simulate", "loopback", "-s", "256K", "--channel", "1", "--completion", "poll"])
        #expect(text.status == 0)
        #expect(text.stdout.contains("loopback H2C1 -> C2H1 (MM, poll-mode writeback) through card memory at 0x0"))
        #expect(text.stdout.contains("data verified: 1 of 1 round trip(s) match"))
        #expect(text.stdout.contains("H2C: 262144 bytes in") && text.stdout.contains("MB/s"))

        let stream = try diag.run(["--simulate-stream", "loopback", "-s", "6M", "-c", "2"])
        #expect(stream.status == 0, "\(stream.all)")
        #expect(stream.stdout.contains("(ST, MSI-X interrupts) through the stream loopback: 2 x 6 MiB"))
        #expect(stream.stdout.contains("data verified: 2 of 2"))
    }

    // MARK: perf

    @Test func perfSweepJSONAndSVGPlot() throws {
        let plot = temporaryPath("xdma-perf.svg")
        let (r, obj) = try json(["--simulate", "perf", "--min", "4K", "--max", "64K", "--iterations", "2", "--json", "--progress", "--plot", plot])
        let report = try #require(obj as? [String: Any])
        let points = try #require(report["points"] as? [[String: Any]])
        #expect(points.map { $0["size"] as? Int } == [4096, 8192, 16384, 32768, 65536])
        for p in points {
            #expect(p["iterations"] as? Int == 2)
            for direction in ["h2c", "c2h"] {
                let s = try #require(p[direction] as? [String: Any])
                #expect(s["transfers"] as? Int == 2)
                #expect(s["bytes"] as? Int == 2 * (p["size"] as? Int ?? 0))
                #expect((s["megabytesPerSecond"] as? Double ?? 0) > 0)
            }
        }
        #expect(report["interface"] as? String == "MM")
        #expect(r.stderr.contains("perf 5/5: 64 KiB"), "--progress draws on stderr only")

        let svg = try SVGSummary(path: plot)
        #expect(svg.root == "svg")
        #expect(svg.polylines.count == 2, "one line per direction")
        #expect(svg.polylines.allSatisfy { $0 == 5 }, "five points per line")
        for label in ["4K", "8K", "16K", "32K", "64K", "H2C0 (host to card)", "C2H0 (card to host)", "transfer size (bytes, log2 scale)"] {
            #expect(svg.texts.contains(label), "\(label) in \(svg.texts)")
        }

        let table = try diag.run(["--simulate", "perf", "--min", "1M", "--max", "2M", "--iterations", "1", "--direction", "h2c"])
        #expect(table.status == 0)
        #expect(table.stdout.contains("      size  iterations      H2C MB/s      C2H MB/s"))
        #expect(table.stdout.contains("     1 MiB           1"))
        #expect(table.stdout.contains("     2 MiB           1"))
        #expect(table.stdout.split(separator: "\n").filter { $0.hasSuffix(" -") }.count == 2, "C2H not measured")
    }

    // MARK: interrupts

    @Test func irqWaitWithRaiseAndTimeout() throws {
        let msix = try diag.run(["--simulate", "irq", "wait", "3", "--raise"])
        #expect(msix.status == 0, "\(msix.all)")
        #expect(msix.stdout.contains("user interrupt 3 arrived after") && msix.stdout.contains("(MSI-X vector 7)"))
        let polled = try diag.run(["--simulate", "--completion", "poll", "irq", "wait", "0", "--raise"])
        #expect(polled.stdout.contains("user interrupt 0 arrived") && polled.stdout.contains("polled user request register"))
        let started = Date()
        let late = try diag.run(["--simulate", "irq", "wait", "2", "--timeout", "200ms"])
        #expect(late.status != 0)
        #expect(late.stderr.contains("user interrupt 2 did not arrive within 0.2 seconds"), "\(late.all)")
        #expect(Date().timeIntervalSince(started) < 10)
    }

    // MARK: trace and replay

    @Test func recordsAndReplaysASmallToDevice() throws {
        let path = temporaryPath("xdma-to-device.trace")
        let args = ["to-device", "-s", "256", "-c", "2", "--pattern", "random", "--seed", "5", "-a", "0x40"]
        let rec = try diag.run(["--simulate", "--trace", path] + args)
        #expect(rec.status == 0, "\(rec.all)")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("DEVICE 0000:00:01.0 10ee:903f"))
        #expect(text.contains("R32 bar1 0x2000 0x1fc20006"))
        #expect(text.contains("IRQ-ENABLE msix"))
        let replay = try diag.run(["--replay", path] + args)
        #expect(replay.status == 0, "\(replay.all)")
        #expect(replay.stdout.contains("H2C0 (MM, MSI-X interrupts): 2 transfer(s) of 256 bytes"))
        var changed = args
        changed[changed.firstIndex(of: "5")!] = "6"
        let diverged = try diag.run(["--replay", path] + changed)
        #expect(diverged.status != 0)
        #expect(diverged.stderr.contains("replay diverged: \(path):"), "\(diverged.all)")
        #expect(diverged.stderr.contains("the data the driver gave the device differs from the recording"))
    }

    // MARK: bad input

    @Test(arguments: [
        (["to-device", "-s", "0"], "--size must be at least 1 byte (got 0)"),
        (["to-device", "-s", "512M"], "runs past the end of the 256 MiB card memory"),
        (["to-device", "-s", "2G"], "is larger than the 1 GiB one transfer may move"),
        (["from-device", "-a", "0x10000000"], "--address 0x10000000 is outside the 256 MiB card memory (allowed 0x0-0xfffffff)"),
        (["to-device", "-o", "4096"], "must be 0-4095 (got 4096)"),
        (["to-device", "--channel", "3"], "engine H2C3 does not exist (engines present: H2C0, H2C1, C2H0, C2H1)"),
        (["loopback", "--channel", "9"], "--channel must be 0-3 (got 9)"),
        (["--simulate-stream", "from-device", "-s", "100"], "buffers must be a multiple of 64 bytes (got 100; use 64 or 128)"),
        (["--simulate-stream", "loopback", "-s", "1000"], "multiple of 64 bytes (got 1000; use 960 or 1024)"),
        (["--simulate-stream", "to-device", "-a", "0x40"], "H2C0 is an AXI4-Stream engine: it has no card address"),
        (["to-device", "-f", "/nonexistent/xdma.bin"], "cannot use file '/nonexistent/xdma.bin': it does not exist"),
        (["from-device", "--output", "/nonexistent/dir/out.bin"], "cannot use file '/nonexistent/dir/out.bin': it cannot be created"),
        (["perf", "--plot", "/nonexistent/dir/plot.svg"], "cannot use file '/nonexistent/dir/plot.svg'"),
        (["to-device", "-s", "6", "--pattern", "0xdeadbeef"], "needs a size that is a multiple of 4 bytes (got 6)"),
        (["to-device", "--pattern", "stripes"], "--pattern 'stripes' is not increment, zero, ones, random or a 32-bit value"),
        (["reg", "read", "0x0", "--width", "16"], "the dma BAR takes 32-bit accesses; 16 bits is not allowed"),
        (["reg", "read", "0x0", "--bar", "user", "--width", "64"], "the user BAR takes 8, 16, 32-bit accesses"),
        (["reg", "read", "0x2002"], "offset 0x2002 is not a 32-bit register of the dma BAR 1"),
        (["reg", "read", "H2C3_CONTROL"], "belongs to engine H2C3, which this card does not have"),
        (["reg", "read", "NO_SUCH_REG"], "no XDMA register named 'NO_SUCH_REG'"),
        (["reg", "write", "IRQ_IDENTIFIER", "1"], "IRQ_IDENTIFIER is read-only"),
        (["irq", "wait", "16"], "user interrupt line must be 0-15 (got 16)"),
        (["perf", "--min", "1M", "--max", "4K"], "--min (1M) must not be larger than --max (4K)"),
        (["info", "--timeout", "soon"], "--timeout 'soon' is not a positive duration"),
        (["info", "--device", "00:05.0"], "no device matches 0000:00:05.0"),
        (["--simulate-stream", "from-device", "-s", "64", "--timeout", "300ms"], "the stream source did not deliver enough data"),
    ])
    func badInputGetsAClearErrorAndNonZeroExit(_ args: [String], _ message: String) throws {
        let r = try diag.run(["--simulate"] + args, timeout: 30)
        #expect(r.status != 0, "\(args) should fail")
        #expect(r.stderr.contains(message), "\(args): got \(r.all)")
        #expect(r.stdout.isEmpty, "\(args) printed \(r.stdout)")
    }

    @Test func configSpaceDumpsAreRefused() throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/pci/xdma-903f.dump").path
        let r = try diag.run(["--dump", fixture, "info"])
        #expect(r.status != 0 && r.stderr.contains("--dump reads config space only, but xdma-diag needs the card's BARs"), "\(r.all)")
    }

    @Test func raiseNeedsTheSimulatedCard() throws {
        let r = try diag.run(["irq", "wait", "1", "--raise"])
        #expect(r.status != 0 && r.stderr.contains("--raise makes the simulated card raise the line; it needs --simulate"))
    }

    // MARK: menu

    @Test func menuRunsRegisterAndLoopbackThenEndsOnEOF() throws {
        // Registers → read IRQ_IDENTIFIER → back; loopback on channel 0 with 64 KiB × 1; then EOF.
        let script = "2\n3\nIRQ_IDENTIFIER\n99\n5\n0\n64K\n1\n"
        let r = try diag.run(["--simulate", "menu"], stdin: script, timeout: 30)
        #expect(r.status == 0, "\(r.all)")
        #expect(r.stdout.contains("xdma-diag main menu (00:01.0)"))
        #expect(r.stdout.contains("IRQ_IDENTIFIER = 0x1fc20006"))
        #expect(r.stdout.contains("data verified: 1 of 1 round trip(s) match"))
        // DMA to device then back from the same card memory, verified, within one session.
        let dma = try diag.run(["--simulate", "menu"], stdin: "3\n1\n0x40\n4K\n0xa5a5a5a5\n4\n1\n0x40\n4K\n0xa5a5a5a5\n", timeout: 30)
        #expect(dma.status == 0)
        #expect(dma.stdout.contains("H2C1 (MM, MSI-X interrupts): 1 transfer(s) of 4096 bytes"))
        #expect(dma.stdout.contains("verify: OK, data matches"))
        #expect(dma.stdout.contains("000: a5 a5 a5 a5"))
        let bad = try diag.run(["--simulate", "menu"], stdin: "42\n3\n9\n0\n4K\nincrement\n", timeout: 30)
        #expect(bad.status == 0)
        #expect(bad.stdout.contains("Invalid option '42': enter 1-7 or 99."))
        #expect(bad.stdout.contains("Error: channel must be 0-3 (got '9')"), "\(bad.stdout)")
    }
}

/// The structure of an SVG file, read with XMLParser (which also proves it is well-formed).
final class SVGSummary: NSObject, XMLParserDelegate {
    private(set) var root: String?
    /// Point counts of each polyline.
    private(set) var polylines: [Int] = []
    /// Every text element's content.
    private(set) var texts: [String] = []
    private var text: String?

    init(path: String) throws {
        super.init()
        let parser = try #require(XMLParser(contentsOf: URL(fileURLWithPath: path)))
        parser.delegate = self
        guard parser.parse() else {
            throw NSError(domain: "SVG", code: 1, userInfo: [NSLocalizedDescriptionKey: "not well-formed XML: \(String(describing: parser.parserError))"])
        }
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        if root == nil { root = name }
        if name == "polyline" { polylines.append(attributes["points"]?.split(separator: " ").count ?? 0) }
        if name == "text" { text = "" }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text? += string }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text", let t = text { texts.append(t) }
        if name == "text" { text = nil }
    }
}
