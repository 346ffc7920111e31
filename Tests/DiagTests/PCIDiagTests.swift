import Foundation
import Testing

/// pci-diag as a user runs it: output, JSON and exit codes.
@Suite struct PCIDiagTests {
    let diag = Tool(name: "pci-diag")

    @Test func listsTheSimulatedEdu() throws {
        let r = try diag.run(["--simulate", "list"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("00:01.0") && r.stdout.contains("[1234:11e8]") && r.stdout.contains("(rev 10)"))
        let j = try diag.run(["list", "--simulate", "--json", "-d", "1234:11e8"])
        let devices = try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [[String: Any]]
        #expect(devices?.count == 1)
        #expect(devices?.first?["vendorID"] as? Int == 0x1234)
        #expect(devices?.first?["address"] as? String == "0000:00:01.0")
        let none = try diag.run(["--simulate", "list", "-d", "10ee:"])
        #expect(none.status == 0 && none.stdout.contains("no devices match"))
    }

    @Test func showsBARsAndCapabilities() throws {
        let r = try diag.run(["--simulate", "show", "00:01.0"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("Region 0: Memory at fe000000 (32-bit, non-prefetchable) [size=1M]"))
        #expect(r.stdout.contains("[40] MSI"))
        #expect(r.stdout.contains("pin INTA"))
        let caps = try diag.run(["--simulate", "caps", "1234:11e8"])
        #expect(caps.stdout.contains("[40] MSI (id 0x05)"))
    }

    @Test func readsAndWritesRegistersAtEveryWidth() throws {
        let id = try diag.run(["--simulate", "read", "00:01.0", "0", "0x0"])
        #expect(id.status == 0 && id.stdout.contains("= 0x010000ed"))
        let live = try diag.run(["--simulate", "write", "00:01.0", "0", "0x4", "0x12345678", "--read-back"])
        #expect(live.stdout.contains("reads back 0xedcba987"))
        let dma = try diag.run(["--simulate", "write", "00:01.0", "0", "0x80", "0x123456789", "--width", "64", "--read-back"])
        #expect(dma.stdout.contains("reads back 0x0000000123456789"))
        let narrow = try diag.run(["--simulate", "read", "00:01.0", "0", "0x0", "--width", "16"])
        #expect(narrow.stdout.contains("= 0xffff"), "edu answers all-ones to 16-bit reads")
        let many = try diag.run(["--simulate", "read", "00:01.0", "0", "0x0", "--count", "3", "--json"])
        let values = try JSONSerialization.jsonObject(with: Data(many.stdout.utf8)) as? [[String: Any]]
        #expect(values?.map { $0["offset"] as? Int } == [0, 4, 8])
        let dump = try diag.run(["--simulate", "dump", "00:01.0", "0", "--length", "32"])
        #expect(dump.stdout.hasPrefix("00000000: 010000ed"))
    }

    @Test func configSpaceDumpReadWrite() throws {
        let dump = try diag.run(["--simulate", "config", "dump", "00:01.0", "--length", "16"])
        #expect(dump.stdout.contains("000: 34 12 e8 11"))
        let cmd = try diag.run(["--simulate", "config", "write", "00:01.0", "0x4", "0x6", "--width", "16"])
        #expect(cmd.status == 0 && cmd.stdout.contains("reads back 0x0006"))
        let id = try diag.run(["--simulate", "config", "read", "00:01.0", "0x0", "--json"])
        let obj = try JSONSerialization.jsonObject(with: Data(id.stdout.utf8)) as? [String: Any]
        #expect(obj?["value"] as? Int == 0x11E8_1234)
    }

    @Test(arguments: [
        (["read", "00:01.0", "0", "0x100000"], "allowed offsets 0x0...0xffffc"),
        (["read", "00:01.0", "0", "0x2"], "not aligned to the access width 4"),
        (["read", "00:01.0", "1", "0"], "BAR 1 is not present (device implements BARs: 0)"),
        (["read", "00:01.0", "7", "0"], "BAR index must be 0-5"),
        (["read", "00:20.0", "0", "0"], "device '20' is not hex ≤ 1f"),
        (["read", "00:05.0", "0", "0"], "no device matches 0000:00:05.0"),
        (["read", "00:01.0", "0", "zz"], "is not a number"),
        (["read", "00:01.0", "0", "0", "--width", "12"], "--width must be 8, 16, 32 or 64"),
        (["write", "00:01.0", "0", "0x4", "0x1ffffffff"], "does not fit in 32 bits"),
        (["config", "read", "00:01.0", "0x100"], "outside config space"),
        (["show", "10ee:"], "no device matches"),
    ])
    func badInputGetsAClearErrorAndNonZeroExit(_ args: [String], _ message: String) throws {
        let r = try diag.run(["--simulate"] + args)
        #expect(r.status != 0)
        #expect(r.all.contains(message), "got: \(r.all)")
    }

    @Test func recordsAndReplaysASession() throws {
        let path = temporaryPath("diag-session.trace")
        let rec = try diag.run(["--simulate", "--trace", path, "write", "00:01.0", "0", "0x4", "0x5", "--read-back"])
        #expect(rec.status == 0)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("W32 bar0 0x0004 0x00000005"))
        #expect(text.contains("R32 bar0 0x0004 0xfffffffa"))
        let ok = try diag.run(["--replay", path, "write", "00:01.0", "0", "0x4", "0x5", "--read-back"])
        #expect(ok.status == 0 && ok.stdout.contains("reads back 0xfffffffa"))
        let bad = try diag.run(["--replay", path, "write", "00:01.0", "0", "0x4", "0x6"])
        #expect(bad.status != 0)
        #expect(bad.all.contains("\(path):"), "divergence names the file and line")
        #expect(bad.all.contains("expected `W32 bar0 0x0004 0x00000005`"))
    }

    @Test func traceShowReportsMalformedLines() throws {
        let path = temporaryPath("broken.trace")
        try "# busmaster-trace 1\nDEVICE 0000:00:01.0 1234:11e8 class=00ff00 rev=10 subsys=1af4:1100\nR32 bar0 0x0000\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        let r = try diag.run(["trace", "show", path])
        #expect(r.status != 0)
        #expect(r.all.contains("\(path):3:"))
        let missing = try diag.run(["trace", "show", temporaryPath("does-not-exist.trace")])
        #expect(missing.status != 0 && missing.all.contains("does-not-exist.trace"))
    }

    @Test func interactiveMenuReadsARegisterAndEndsOnEOF() throws {
        let script = "5\n3\n0x0\n99\n"  // BAR menu → Read → offset 0 → back; then EOF
        let r = try diag.run(["--simulate", "menu", "00:01.0"], stdin: script, timeout: 30)
        #expect(r.status == 0)
        #expect(r.stdout.contains("BAR0[0x00000000] = 0x010000ed"))
        let bad = try diag.run(["--simulate", "menu"], stdin: "42\n", timeout: 30)
        #expect(bad.stdout.contains("Invalid option '42'"))
    }
}

/// The edu sample driver's executable, including record → replay and a tampered trace.
@Suite struct EduDriverToolTests {
    let edu = Tool(name: "edu-driver")

    @Test func recordReplayAndDivergence() throws {
        let path = temporaryPath("edu.trace")
        let rec = try edu.run(["--simulate", "--interrupt", "intx", "--trace", path])
        #expect(rec.status == 0, "\(rec.all)")
        #expect(rec.stdout.contains("EDU-DRIVER: PASS"))
        let replay = try edu.run(["--replay", path, "--interrupt", "intx"])
        #expect(replay.status == 0, "\(replay.all)")
        #expect(replay.stdout.contains("EDU-DRIVER: PASS"))

        var lines = try String(contentsOfFile: path, encoding: .utf8).components(separatedBy: "\n")
        let i = try #require(lines.firstIndex(of: "W32 bar0 0x0004 0xa5a50f0f"))
        lines[i] = "W32 bar0 0x0004 0xa5a50f0e"
        let tampered = temporaryPath("edu-tampered.trace")
        try lines.joined(separator: "\n").write(toFile: tampered, atomically: true, encoding: .utf8)
        let div = try edu.run(["--replay", tampered, "--interrupt", "intx"], timeout: 30)
        #expect(div.status != 0)
        #expect(div.stdout.contains("\(tampered):\(i + 1): expected `W32 bar0 0x0004 0xa5a50f0e`, but the driver did `W32 bar0 0x0004 0xa5a50f0f`"))
        #expect(div.stdout.contains("EDU-DRIVER: FAIL"))
    }

    @Test func refusesAmbiguousInvocations() throws {
        let r = try edu.run([])
        #expect(r.status != 0 && r.all.contains("exactly one of --simulate"))
        let w = try edu.run(["--simulate", "--interrupt", "msix"])
        #expect(w.status != 0 && w.all.contains("--interrupt must be msi, intx or poll"))
    }
}

/// Trace tools: diff and mmiotrace import through the command line.
@Suite struct TraceToolTests {
    let diag = Tool(name: "pci-diag")
    let edu = Tool(name: "edu-driver")

    @Test func diffIgnoresPollCountsButNotBehaviour() throws {
        let a = temporaryPath("run-a.trace")
        let b = temporaryPath("run-b.trace")
        #expect(try edu.run(["--simulate", "--interrupt", "poll", "--trace", a]).status == 0)
        #expect(try edu.run(["--simulate", "--interrupt", "poll", "--trace", b]).status == 0)
        let same = try diag.run(["trace", "diff", a, b])
        #expect(same.status == 0, "\(same.all)")
        #expect(same.stdout.contains("traces match"))
        let msi = temporaryPath("run-msi.trace")
        #expect(try edu.run(["--simulate", "--interrupt", "msi", "--trace", msi]).status == 0)
        let diff = try diag.run(["trace", "diff", a, msi])
        #expect(diff.status == 1)
        #expect(diff.stdout.contains("IRQ-ENABLE msi 1"))
    }

    @Test func importsAnMMIOTrace() throws {
        let input = temporaryPath("e1000e.mmiotrace")
        try """
            VERSION 20070824
            PCIDEV 0010 808610d3 b feb80000 feba0000 c041 febd0000 0 0 feb40000 20000 20000 20 4000 0 0 40000 e1000e
            MARK 6.431205 before e1000e
            MAP 6.659898 1 0xfeb80000 0xff7a5515405c0000 0x20000 0x0 0
            W 4 6.693918 1 0xfeb800d8 0xffffffff 0x0 0
            R 4 6.694089 1 0xfeb80008 0x80283 0x0 0

            """.write(toFile: input, atomically: true, encoding: .utf8)
        let out = temporaryPath("e1000e.trace")
        let r = try diag.run(["trace", "import-mmiotrace", input, out])
        #expect(r.status == 0, "\(r.all)")
        let text = try String(contentsOfFile: out, encoding: .utf8)
        #expect(text.contains("W32 bar0 0x00d8 0xffffffff"))
        #expect(text.contains("R32 bar0 0x0008 0x00080283"))
        try "VERSION 20070824\nR 4 nonsense\n".write(toFile: input, atomically: true, encoding: .utf8)
        let bad = try diag.run(["trace", "import-mmiotrace", input, out])
        #expect(bad.status != 0 && bad.all.contains(":2:"))
    }
}
