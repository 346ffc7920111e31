import Busmaster
import BusmasterLibPCI
import Testing

/// Enumeration of the board fixtures through libpci's dump method.
@Suite("libpci dump enumeration")
struct LibPCIDumpTests {
    func platform(_ name: String) throws -> PCIDumpPlatform {
        try PCIDumpPlatform(path: Fixture.pci(name + ".dump"))
    }

    @Test("PLX 9656: identity, four BARs with sidecar sizes, PM/HotSwap/VPD chain")
    func plx9656() throws {
        let p = try platform("plx9656")
        let d = try #require(try p.devices().first)
        #expect(try p.devices().count == 1)
        #expect(d.address == PCIAddress(bus: 3, device: 4, function: 0))
        #expect(d.idString == "10b5:9656")
        #expect(d.revision == 0xAA)
        #expect(d.classCode == 0x068000)
        #expect(d.subsystemVendorID == 0x10B5 && d.subsystemID == 0x9656)
        #expect(d.irq == 11 && d.interruptPin == 1)
        #expect(d.configSize == 256)
        #expect(d.bars == [
            BARInfo(index: 0, address: 0xFEBF_FC00, size: 512),
            BARInfo(index: 1, address: 0xE000, size: 256, kind: .io),
            BARInfo(index: 2, address: 0xFEA0_0000, size: 1 << 20),
            BARInfo(index: 3, address: 0xFEBE_0000, size: 64 << 10),
        ])
        #expect(d.capabilities.map(\.id) == [0x01, 0x06, 0x03])
        #expect(d.capabilities.map(\.offset) == [0x40, 0x48, 0x4C])
        #expect(d.capabilities.allSatisfy { !$0.isExtended })
        #expect(p.barSizesPath == Fixture.pci("plx9656.bars"))
    }

    @Test("XDMA 903f: 64-bit BARs 0/2/4, MSI-X, extended capabilities from a 4096-byte dump")
    func xdma903f() throws {
        let d = try #require(try platform("xdma-903f").devices().first)
        #expect(d.idString == "10ee:903f")
        #expect(d.classCode == 0x070001)
        #expect(d.configSize == 4096)
        #expect(d.bars.map(\.index) == [0, 2, 4])
        #expect(d.bars.allSatisfy { $0.is64Bit })
        #expect(d.bar(4) == BARInfo(index: 4, address: 0x38_0000_0000, size: 256 << 20, is64Bit: true, isPrefetchable: true))
        #expect(d.bar(2)?.size == 0x10000)
        let standard = d.capabilities.filter { !$0.isExtended }
        let extended = d.capabilities.filter(\.isExtended)
        #expect(standard.map(\.id) == [0x01, 0x05, 0x10, 0x11])
        #expect(extended.map(\.id) == [0x0001, 0x0003, 0x000B])
        #expect(extended.map(\.offset) == [0x100, 0x140, 0x180])
        #expect(extended.first?.version == 2)
    }

    @Test("XDMA 7024: 32-bit BARs 0/1; a 256-byte dump shows no extended capabilities")
    func xdma7024() throws {
        let d = try #require(try platform("xdma-7024").devices().first)
        #expect(d.idString == "10ee:7024")
        #expect(d.bars == [BARInfo(index: 0, address: 0xFD00_0000, size: 1 << 20), BARInfo(index: 1, address: 0xFD10_0000, size: 64 << 10)])
        #expect(d.capabilities.map(\.id) == [0x01, 0x05, 0x10, 0x11])
        #expect(!d.capabilities.contains { $0.isExtended })
    }

    @Test("BMD: domain 0001, one 1 KiB BAR, MSI, PCIe and a Device Serial Number")
    func bmd() throws {
        let d = try #require(try platform("bmd").devices().first)
        #expect(d.address == PCIAddress(domain: 1, bus: 5, device: 0, function: 0))
        #expect(d.idString == "10ee:0007")
        #expect(d.bars == [BARInfo(index: 0, address: 0xFBFF_FC00, size: 1024)])
        #expect(d.capabilities.map(\.id) == [0x01, 0x05, 0x10, 0x0003])
        #expect(d.capabilities.last?.isExtended == true)
    }

    @Test("all boards in one dump come back sorted by address, each with its sizes")
    func allBoards() throws {
        let devices = try platform("all-boards").devices()
        #expect(devices.map(\.address.description) == ["0000:01:00.0", "0000:02:00.0", "0000:03:04.0", "0001:05:00.0"])
        #expect(devices.map(\.idString) == ["10ee:903f", "10ee:7024", "10b5:9656", "10ee:0007"])
        #expect(devices.allSatisfy { $0.bars.allSatisfy { $0.size > 0 } })
    }

    @Test("names come from pci.ids")
    func names() throws {
        try #require(PCINameDatabase.defaultIDsFile != nil, "no pci.ids installed (apt-get install pciutils)")
        let devices = try platform("all-boards").devices()
        let plx = try #require(devices.first { $0.vendorID == 0x10B5 })
        #expect(plx.names?.vendor == "PLX Technology, Inc.")
        #expect(plx.names?.device == "PCI9656 PCI <-> IOBus Bridge")
        #expect(plx.names?.deviceClass == "Bridge")
        let xdma = try #require(devices.first { $0.deviceID == 0x903F })
        #expect(xdma.names?.vendor == "Xilinx Corporation")
        #expect(xdma.names?.device == nil)  // not in pci.ids
        #expect(xdma.names?.deviceClass == "Serial controller")
        let db = try PCINameDatabase()
        #expect(db.vendorName(0x10EE) == "Xilinx Corporation")
        #expect(db.deviceName(vendorID: 0x10EE, deviceID: 0x0007) == "Default PCIe endpoint ID")
        #expect(db.vendorName(0x0002) == nil)  // not assigned in pci.ids
    }

    @Test("the dump device opens read-only with the dumped config bytes")
    func openDump() throws {
        let p = try platform("xdma-903f")
        let dev = try p.open(PCIAddress(bus: 1, device: 0, function: 0))
        #expect(dev.config.size == 4096)
        #expect(try dev.config.read16(at: 0) == 0x10EE)
        #expect(try dev.config.capability(0x11)?.offset == 0x9C)
        #expect(try dev.config.capability(0x0001, extended: true)?.offset == 0x100)
        #expect(throws: BusmasterError.self) { try dev.config.write16(0, at: 4) }
        #expect(throws: BusmasterError.self) { try dev.bar(0) }
    }

    @Test("libpci session reads config through the dump method")
    func sessionReadsConfig() throws {
        let s = try LibPCISession(source: .dump(path: Fixture.pci("bmd.dump")))
        let a = PCIAddress(domain: 1, bus: 5, device: 0, function: 0)
        #expect(try s.readConfig(a, offset: 0, count: 4) == [0xEE, 0x10, 0x07, 0x00])
        #expect(try s.readConfig(a, offset: 0x100, count: 2) == [0x03, 0x00])
        #expect(throws: BusmasterError.self) { try s.readConfig(PCIAddress(bus: 9, device: 0, function: 0), offset: 0, count: 4) }
    }
}
