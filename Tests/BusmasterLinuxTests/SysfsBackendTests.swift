import Busmaster
import BusmasterLinux
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The no-IOMMU path over a fake tree (regular files stand in for `config` and
/// `resourceN`), the UIO interrupt source over a FIFO, and pagemap/hugepage behaviour.
@Suite("sysfs/UIO backend")
struct SysfsBackendTests {
    let x = PCIAddress(bus: 1, device: 0, function: 0)

    func tree() throws -> FakeLinux {
        let t = try FakeLinux()
        var c = makeConfig(vendor: 0x10B5, device: 0x9656, classCode: 0x068000)
        c[4] = 0x02  // memory decode on
        try t.addDevice(
            "0000:01:00.0", config: c, resources: [(0xFEBF_F000, 0xFEBF_FFFF, 0x40200), (0xE000, 0xE0FF, 0x40101)],
            driver: "uio_pci_generic")
        try t.putBytes(t.deviceDir("0000:01:00.0") + "/resource0", [UInt8](repeating: 0, count: 4096))
        try t.putBytes(t.deviceDir("0000:01:00.0") + "/resource1", [UInt8](repeating: 0, count: 256))
        try t.put(t.deviceDir("0000:01:00.0") + "/uio/uio3/event", "7\n")
        try t.put(t.deviceDir("0000:01:00.0") + "/reset", "")
        return t
    }

    @Test("config, BARs, INTx unmask and reset go to the sysfs files")
    func backend() throws {
        let t = try tree()
        let dev = try LinuxPlatform(paths: t.paths).open(x)
        defer { dev.close() }
        #expect(dev.platformName == "sysfs+uio")
        #expect(try dev.config.read16(at: 0) == 0x10B5)
        #expect(dev.availableInterrupts == [.intx: 1])
        // Bus master on: the file's command word changes.
        try dev.enable()
        let cfg = try #require(FileManager.default.contents(atPath: t.root + "/" + t.deviceDir("0000:01:00.0") + "/config"))
        #expect(cfg[4] & 0x06 == 0x06)
        // INTx unmask clears COMMAND.INTx-disable (set by uio_pci_generic when it fires).
        try dev.config.write16(try dev.config.read16(at: 4) | 0x400, at: 4)
        try dev.backend.unmaskINTx()
        #expect(try dev.config.read16(at: 4) & 0x400 == 0)
        // BAR0 is mmapped from resource0: a write lands in the file.
        let bar = try dev.bar(0)
        #expect(bar.size == 4096)
        bar.write32(0xCAFE_F00D, at: 0x68)
        let res = try #require(FileManager.default.contents(atPath: t.root + "/" + t.deviceDir("0000:01:00.0") + "/resource0"))
        #expect(res[0x68] == 0x0D && res[0x6B] == 0xCA)
        // BAR1 is I/O: pread/pwrite on resource1.
        let io = try dev.bar(1)
        io.write16(0xBEEF, at: 0x10)
        #expect(io.read16(at: 0x10) == 0xBEEF)
        try dev.reset()
        #expect(t.read(t.deviceDir("0000:01:00.0") + "/reset") == "1")
        #expect(throws: BusmasterError.self) { try dev.bar(2) }
    }

    @Test("MSI is refused on UIO; caller memory is refused without an IOMMU")
    func limits() throws {
        let t = try tree()
        let dev = try LinuxPlatform(paths: t.paths).open(x)
        defer { dev.close() }
        #expect {
            try dev.backend.enableInterrupts(.msi, vectors: 1)
        } throws: { e in "\(e)".contains("INTx only") }
        let mem = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 4096)
        defer { mem.deallocate() }
        #expect {
            try dev.lockDMABuffer(mem, direction: .toDevice)
        } throws: { e in "\(e)".contains("needs an IOMMU") }
        #expect(SysfsBackend.isolationWarning.contains("NO DMA isolation"))
    }

    @Test("UIO source: cumulative counts become deltas; timeout returns 0; cancel wakes the waiter")
    func uioSource() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let fifo = dir.file("uio3")
        #expect(mkfifo(fifo, 0o600) == 0)
        // Keep a writer open so reads see EAGAIN instead of EOF.
        let writer = open(fifo, O_RDWR | O_NONBLOCK)
        #expect(writer >= 0)
        defer { close(writer) }
        let source = try UIOInterruptSource(UIODevice(number: 3, node: fifo, sysfsDirectory: dir.path))
        #expect(try source.wait(timeoutNanos: 20_000_000) == 0)
        var count: UInt32 = 1
        _ = withUnsafeBytes(of: &count) { write(writer, $0.baseAddress, 4) }
        #expect(try source.wait(timeoutNanos: 1_000_000_000) == 1)
        count = 4  // three interrupts since the last read: two were missed
        _ = withUnsafeBytes(of: &count) { write(writer, $0.baseAddress, 4) }
        #expect(try source.wait(timeoutNanos: 1_000_000_000) == 3)
        source.cancel()
        #expect(throws: BusmasterError.self) { try source.wait(timeoutNanos: 1_000_000_000) }
    }

    @Test("pagemap entries decode; this process's pages translate when root")
    func pagemap() throws {
        #expect(try Pagemap.decode(entry: Pagemap.presentBit | 0x1234, address: 0x7F00_0000_0ABC) == 0x1234 * 4096 + 0xABC)
        #expect(throws: BusmasterError.self) { try Pagemap.decode(entry: 0x1234, address: 0) }
        #expect { try Pagemap.decode(entry: Pagemap.presentBit, address: 0) } throws: { e in "\(e)".contains("CAP_SYS_ADMIN") }
        let page = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)
        defer { page.deallocate() }
        page.storeBytes(of: 1, as: UInt8.self)
        if geteuid() == 0 {
            let phys = try Pagemap().physicalAddress(of: page + 0x10)
            #expect(phys % 4096 == 0x10 && phys > 0)
        }
    }

    @Test("without reserved hugepages, DMA allocation says how to reserve them")
    func hugepagesMissing() throws {
        let meminfo = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)) ?? ""
        let free = meminfo.split(separator: "\n").first { $0.hasPrefix("HugePages_Free:") }?.split(separator: " ").last
        guard free == "0" else {
            print("note: this machine has free hugepages; the missing-hugepage message is not exercised")
            return
        }
        let t = try tree()
        let dev = try LinuxPlatform(paths: LinuxPaths(sysfs: t.paths.sysfs, dev: t.paths.dev, proc: "/proc")).open(x)
        defer { dev.close() }
        #expect {
            try dev.allocateDMABuffer(size: 4096, direction: .bidirectional)
        } throws: { e in "\(e)".contains("nr_hugepages") }
    }
}
