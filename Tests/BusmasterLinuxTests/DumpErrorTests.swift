import Busmaster
import BusmasterLibPCI
import Testing

/// Malformed and missing dumps report the file and line; libpci's own fatal errors are
/// recovered and never end the process.
@Suite("dump errors and libpci recovery")
struct DumpErrorTests {
    let good = "03:00.0 Test device\n00: ee 10 07 00 06 00 10 00 00 00 80 05 10 00 00 00\n\n"

    func malformed(_ text: String) throws -> LibPCIError {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = try dir.write("bad.dump", text)
        do {
            _ = try PCIDumpPlatform(path: path)
        } catch let e as LibPCIError {
            return e
        }
        Issue.record("a malformed dump was accepted")
        return .sessionClosed
    }

    @Test("the malformed fixture names line 5")
    func malformedFixture() throws {
        let path = Fixture.pci("malformed.dump")
        do {
            _ = try PCIDumpPlatform(path: path)
            Issue.record("accepted")
        } catch let e as LibPCIError {
            guard case .malformed(let p, let line, let message) = e else { Issue.record("wrong error \(e)"); return }
            #expect(p == path)
            #expect(line == 5)
            #expect(message.contains("two hex digits"))
            #expect(e.description.hasPrefix(path + ":5: "))
        }
    }

    @Test("a missing dump says it cannot be read")
    func missing() throws {
        #expect(throws: LibPCIError.cannotOpen(path: "/nonexistent/x.dump", reason: "No such file or directory")) {
            try PCIDumpPlatform(path: "/nonexistent/x.dump")
        }
    }

    @Test("line-numbered errors for each rule libpci enforces", arguments: [
        ("03:00.0 Dev\n00: ee 10 07\n10: 0\n\n", 3, "two hex digits"),
        ("03:00.0 Dev\n00: ee 10  07\n\n", 2, "two hex digits"),
        ("03:00.0 Dev\n00: ee 10 07", 2, "newline"),
        ("03:00.0\n00: ee 10\n\n", 1, "needs a space and a description"),
        ("00: ee 10 07 00\n", 1, "outside a device"),
        ("03:00.0 Dev\n00: ee\n\n03:00.0 Again\n00: ee\n\n", 4, "appears a second time (first at line 1)"),
        ("03:00.0 Dev\nff8: 00 00 00 00 00 00 00 00 00 00\n\n", 2, "exceed the 4096 bytes"),
        ("03:00.9 Dev\n00: ee\n\n", 1, "function number"),
        ("03:00.0 Dev\n00: " + String(repeating: "00 ", count: 90) + "\n\n", 2, "characters long"),
    ])
    func rules(text: String, line: Int, fragment: String) throws {
        let e = try malformed(text)
        guard case .malformed(_, let l, let m) = e else { Issue.record("wrong error \(e)"); return }
        #expect(l == line, "\(e)")
        #expect(m.contains(fragment), "\(e)")
    }

    @Test("a file without device headers is reported as empty")
    func empty() throws {
        guard case .noDevices = try malformed("this is not a dump\n") else { Issue.record("expected noDevices"); return }
    }

    @Test("CRLF line ends, uppercase hex and ignored text lines are accepted like libpci does")
    func lenient() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = try dir.write("ok.dump", "Some banner\r\n0000:03:00.0 Dev\r\n00: EE 10 07 00\r\n\tKernel driver in use: none\r\n\r\n")
        let d = try #require(try PCIDumpPlatform(path: path).devices().first)
        #expect(d.idString == "10ee:0007")
    }

    @Test("libpci's own fatal errors are recovered: missing file, malformed line")
    func libpciErrorsRecovered() throws {
        // Skip our validation so libpci itself hits the errors that would call exit(1).
        #expect {
            try LibPCISession(source: .dump(path: "/nonexistent/x.dump"), validate: false)
        } throws: { e in
            guard case LibPCIError.libpci(let m) = e else { return false }
            return m.contains("Cannot open")
        }
        #expect {
            try LibPCISession(source: .dump(path: Fixture.pci("malformed.dump")), validate: false)
        } throws: { e in
            guard case LibPCIError.libpci(let m) = e else { return false }
            return m.contains("Malformed line")
        }
        // The process is still alive and libpci still works.
        let s = try LibPCISession(source: .dump(path: Fixture.pci("plx9656.dump")))
        #expect(try s.devices().count == 1)
    }

    @Test("a write in dump mode is a recovered libpci error that closes the session")
    func writeRecovered() throws {
        let s = try LibPCISession(source: .dump(path: Fixture.pci("plx9656.dump")))
        let a = PCIAddress(bus: 3, device: 4, function: 0)
        #expect {
            try s.writeConfigWord(a, offset: 4, value: 0)
        } throws: { e in
            guard case LibPCIError.libpci(let m) = e else { return false }
            return m.contains("not supported")
        }
        #expect(throws: LibPCIError.sessionClosed) { try s.devices() }
    }

    @Test("libpci errors from many threads are recovered independently")
    func concurrentRecovery() async throws {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for i in 0..<8 {
                group.addTask {
                    if i % 2 == 0 {
                        return (try? LibPCISession(source: .dump(path: Fixture.pci("malformed.dump")), validate: false)) == nil
                    }
                    return try LibPCISession(source: .dump(path: Fixture.pci("bmd.dump"))).devices().count == 1
                }
            }
            for try await ok in group { #expect(ok) }
        }
    }

    @Test("BAR-size sidecar errors name the line", arguments: [
        ("0000:03:04.0 0 512\n0000:03:04.0 7 512\n", 2, "must be 0-5"),
        ("0000:03:04.0 0 500\n", 1, "power of two"),
        ("zz 0 512\n", 1, "not a PCI address"),
        ("# c\n0000:03:04.0 0 512\n0000:03:04.0 0 1K\n", 3, "given twice (first at line 2)"),
        ("0000:03:04.0 4 512\n", 1, "not implemented"),
        ("0000:03:04.0 0 1M\n", 1, "not aligned"),
        ("0000:09:00.0 0 4K\n", 1, "is not in"),
    ])
    func sidecar(text: String, line: Int, fragment: String) throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let bars = try dir.write("s.bars", text)
        do {
            _ = try PCIDumpPlatform(path: Fixture.pci("plx9656.dump"), barSizes: bars)
            Issue.record("accepted")
        } catch let e as LibPCIError {
            guard case .malformed(let p, let l, let m) = e else { Issue.record("wrong error \(e)"); return }
            #expect(p == bars)
            #expect(l == line, "\(e)")
            #expect(m.contains(fragment), "\(e)")
        }
    }

    @Test("sizes parse in decimal, hex and with unit suffixes")
    func sizes() {
        #expect(PCIBARSizes.parseSize("512") == 512)
        #expect(PCIBARSizes.parseSize("0x10000") == 0x10000)
        #expect(PCIBARSizes.parseSize("64K") == 65536)
        #expect(PCIBARSizes.parseSize("2g") == 2 << 30)
        #expect(PCIBARSizes.parseSize("1X") == nil)
        #expect(PCIBARSizes.sidecarPath(forDump: "/a/card.dump") == "/a/card.bars")
        #expect(PCIBARSizes.sidecarPath(forDump: "/a/card.txt") == "/a/card.txt.bars")
    }
}
