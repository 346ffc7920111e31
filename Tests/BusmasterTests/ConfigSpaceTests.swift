import Busmaster
import Testing

@Suite struct CapabilityWalkTests {
    func space(_ size: Int, _ setup: (inout [UInt8]) -> Void) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: size)
        setup(&b)
        return b
    }
    func walk(_ b: [UInt8]) -> [PCICapability] {
        CapabilityWalker.walk(b.count) { off, w in
            var v: UInt64 = 0
            for k in 0..<w.bytes { v |= UInt64(b[off + k]) << UInt64(8 * k) }
            return v
        }
    }

    @Test func standardAndExtendedLists() {
        let b = space(4096) { b in
            b[0x06] = 0x10
            b[0x34] = 0x40
            b[0x40] = 0x01; b[0x41] = 0x48
            b[0x48] = 0x05; b[0x49] = 0x60
            b[0x60] = 0x10; b[0x61] = 0x00
            // AER at 0x100 v1 → DSN at 0x140
            b[0x100] = 0x01; b[0x102] = 0x01; b[0x103] = 0x14
            b[0x140] = 0x03; b[0x142] = 0x01
        }
        let caps = walk(b)
        #expect(caps.map(\.offset) == [0x40, 0x48, 0x60, 0x100, 0x140])
        #expect(caps.map(\.name) == ["Power Management", "MSI", "PCI Express", "Advanced Error Reporting", "Device Serial Number"])
        #expect(caps[3].isExtended && caps[3].version == 1)
    }

    @Test func loopsAndWildPointersEndTheWalk() {
        let loop = space(256) { b in
            b[0x06] = 0x10; b[0x34] = 0x40
            b[0x40] = 0x05; b[0x41] = 0x50
            b[0x50] = 0x11; b[0x51] = 0x40  // points back
        }
        #expect(walk(loop).map(\.offset) == [0x40, 0x50])
        let wild = space(256) { b in
            b[0x06] = 0x10; b[0x34] = 0x20  // inside the header: invalid
        }
        #expect(walk(wild).isEmpty)
        let extLoop = space(4096) { b in
            b[0x100] = 0x01; b[0x103] = 0x10  // next = 0x100 → itself
        }
        #expect(walk(extLoop).count == 1)
        let noList = space(256) { b in b[0x34] = 0x40; b[0x40] = 0x05 }
        #expect(walk(noList).isEmpty, "status bit 4 clear means no list")
    }

    @Test func decodeIdentityAndBARs() {
        let b = space(256) { b in
            b[0] = 0xEE; b[1] = 0x10; b[2] = 0x3F; b[3] = 0x90
            b[0x08] = 0x02; b[0x09] = 0x00; b[0x0A] = 0x80; b[0x0B] = 0x07
            b[0x10] = 0x0C; b[0x13] = 0xF0; b[0x14] = 0x38  // 64-bit prefetchable 0x38_F000_0000
            b[0x18] = 0x01; b[0x19] = 0xE0  // I/O at 0xE000
            b[0x2C] = 0xEE; b[0x2D] = 0x10; b[0x2E] = 0x07; b[0x2F] = 0x00
            b[0x3C] = 0x0B; b[0x3D] = 0x01
        }
        let info = PCIDeviceInfo.decode(address: PCIAddress(bus: 1, device: 0, function: 0), config: b, barSizes: [0: 0x10000])
        #expect(info.idString == "10ee:903f")
        #expect(info.classCode == 0x078000 && info.revision == 2)
        #expect(info.bars.count == 2)
        #expect(info.bars[0] == BARInfo(index: 0, address: 0x38_F000_0000, size: 0x10000, kind: .memory, is64Bit: true, isPrefetchable: true))
        #expect(info.bars[1].kind == .io && info.bars[1].address == 0xE000 && info.bars[1].index == 2)
        #expect(info.irq == 11 && info.interruptPin == 1)
        #expect(info.subsystemVendorID == 0x10EE && info.subsystemID == 0x0007)
        #expect(info.bars[0].summary == "Memory at 38f0000000 (64-bit, prefetchable) [size=64K]")
    }
}
