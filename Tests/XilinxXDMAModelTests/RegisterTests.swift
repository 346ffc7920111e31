import Busmaster
import BusmasterSimulation
import Testing
import XilinxXDMAModel

@Suite("XDMA model: identity and registers")
struct RegisterTests {
    @Test("PCI identity and the AMD example BAR layout (Lite 0, DMA 1, bypass 2)")
    func identityAndBARs() throws {
        let b = try Bench()
        let info = b.device.info
        #expect(info.vendorID == 0x10EE)
        #expect(info.deviceID == 0x903F)
        #expect(info.bars.map(\.index) == [0, 1, 2])
        #expect(info.bar(1)?.size == 0x10000)
        #expect(b.model.dmaBAR == 1 && b.model.userBAR == 0 && b.model.bypassBAR == 2)
        #expect(b.device.availableInterrupts[.msix] == 32)
    }

    @Test("64-bit DMA-only layout puts the DMA BAR at 0")
    func sixtyFourBitLayouts() throws {
        var c = XDMAModelConfiguration()
        c.barLayout = .liteDMAAndBypass
        c.uses64BitBARs = true
        let b = try Bench(c)
        #expect(b.device.info.bars.map(\.index) == [0, 2, 4])
        #expect(b.device.info.bars.allSatisfy { $0.is64Bit })
        #expect(b.model.dmaBAR == 2)
        var d = XDMAModelConfiguration()
        d.barLayout = .dmaOnly
        let only = try Bench(d)
        #expect(only.device.info.bars.map(\.index) == [0])
    }

    @Test("§1.3 detection: exactly one BAR reads 0x1FC2xxxx at +0x2000 and 0x1FC3xxxx at +0x3000")
    func dmaBARDetection() throws {
        let b = try Bench()
        var matches: [Int] = []
        for info in b.device.info.bars where info.size >= 0x8000 {
            let region = try b.device.bar(info.index)
            let v2000 = region.read32(at: 0x2000)
            let v3000 = region.read32(at: 0x3000)
            if v2000 & 0xFFFF_0000 == 0x1FC2_0000 && v3000 & 0xFFFF_0000 == 0x1FC3_0000 {
                matches.append(info.index)
            }
        }
        #expect(matches == [1])
        // The blind probe touched the user BAR's 0x2000 / 0x3000: counted for tests to catch.
        #expect(b.model.statistics.userBARProbeReads == 2)
    }

    @Test("Identifiers of every block, version byte and stream bit (§2.1)")
    func identifiers() throws {
        var c = XDMAModelConfiguration()
        c.h2cEngines = [.memoryMapped, .stream]
        c.c2hEngines = [.memoryMapped, .stream]
        c.ipVersion = 6
        let b = try Bench(c)
        #expect(b.read(Sheet.h2c(0)) == 0x1FC0_0006)
        #expect(b.read(Sheet.c2h(0)) == 0x1FC1_0006)
        #expect(b.read(Sheet.h2c(1)) == 0x1FC0_8106)
        #expect(b.read(Sheet.c2h(1)) == 0x1FC1_8106)
        #expect(b.read(Sheet.irq) == 0x1FC2_0006)
        #expect(b.read(Sheet.config) == 0x1FC3_0006)
        #expect(b.read(Sheet.h2cSGDMA(0)) == 0x1FC4_0006)
        #expect(b.read(Sheet.c2hSGDMA(1)) == 0x1FC5_8106)
        #expect(b.read(Sheet.common) == 0x1FC6_0006)
        // Channels 2 and 3 do not exist.
        #expect(b.read(Sheet.h2c(2)) >> 16 != 0x1FC0)
        #expect(b.read(Sheet.c2h(3)) >> 16 != 0x1FC1)
    }

    @Test("Reset values of §2.8 and the config block")
    func resetValues() throws {
        var c = XDMAModelConfiguration()
        c.maxPayloadCode = 1
        c.maxReadRequestCode = 2
        let b = try Bench(c)
        #expect(b.read(Sheet.h2c(0) + Sheet.alignments) == 0x0001_0140)
        #expect(b.read(Sheet.c2h(0) + Sheet.alignments) == 0x0001_0140)
        #expect(b.read(Sheet.h2c(0) + Sheet.control) == 0)
        #expect(b.read(Sheet.h2c(0) + Sheet.status) == 0)
        #expect(b.read(Sheet.h2c(0) + Sheet.intMask) == 0)
        #expect(b.read(Sheet.config + 0x08) == 1)  // MPS 256
        #expect(b.read(Sheet.config + 0x0C) == 2)  // MRRS 512
        #expect(b.read(Sheet.config + 0x10) == 0xFF01)
        #expect(b.read(Sheet.config + 0x04) == 0x0008)  // bus 0, device 1, function 0
        #expect(b.read(Sheet.config + 0x18) == 2)  // 256-bit datapath
        #expect(b.read(Sheet.config + 0x1C) == 1)
        // Programmed 5 in 2:0, effective = min(programmed, PCIe code) in 6:4.
        #expect(b.read(Sheet.config + 0x40) == 0x15)
        #expect(b.read(Sheet.config + 0x44) == 0x25)
        #expect(b.read(Sheet.msixTable + 0x0C) == 0xFFFF_FFFF)
        #expect(b.read(Sheet.msixTable + 0x1F * 16 + 0x0C) == 0xFFFF_FFFF)
        #expect(b.read(Sheet.msixTable) == 0)
        #expect(b.read(Sheet.msixPBA) == 0)
        #expect(b.read(Sheet.common + 0x10) == 0)
        #expect(b.read(Sheet.common + 0x20) == 0)
        // MSI-X enable shows up at 0x3014 bit 1.
        #expect(b.read(Sheet.config + 0x14) == 0)
        let irq = try b.device.enableInterrupts(preferring: [.msix], vectors: 4)
        #expect(b.read(Sheet.config + 0x14) == 0x2)
        irq.disable()
    }

    @Test("Control RW / W1S / W1C aliases, reserved bits linted")
    func controlAliases() throws {
        let b = try Bench()
        let base = Sheet.h2c(0)
        b.write(base + Sheet.control, 0x0000_3E00)
        #expect(b.read(base + Sheet.control) == 0x0000_3E00)
        b.write(base + Sheet.controlW1S, 0x0000_0006)
        #expect(b.read(base + Sheet.control) == 0x0000_3E06)
        b.write(base + Sheet.controlW1C, 0x0000_0200)
        #expect(b.read(base + Sheet.control) == 0x0000_3C06)
        // Bits 31:28 never stick; setting them (reserved) is a lint.
        b.write(base + Sheet.controlW1S, 0xF000_0000)
        #expect(b.read(base + Sheet.control) == 0x0000_3C06)
        #expect(!b.lints(containing: "reserved bits").isEmpty)
    }

    @Test("Interrupt mask 0x90 RW, 0x94 W1S, 0x98 W1C; 0x9C is reserved and linted")
    func interruptMaskAliases() throws {
        let b = try Bench()
        let base = Sheet.c2h(0)
        b.write(base + Sheet.intMask, 0x0000_0006)
        b.write(base + Sheet.intMaskW1S, 0x00F8_0000)
        #expect(b.read(base + Sheet.intMask) == 0x00F8_0006)
        b.write(base + Sheet.intMaskW1C, 0x0000_0004)
        #expect(b.read(base + Sheet.intMask) == 0x00F8_0002)
        b.write(base + 0x9C, 0x00F8_0000)
        #expect(b.read(base + Sheet.intMask) == 0x00F8_0002)
        #expect(!b.lints(containing: "+0x9C").isEmpty)
    }

    @Test("Non-32-bit accesses to the DMA BAR are linted and ignored")
    func accessWidth() throws {
        let b = try Bench()
        b.bar.write16(0x1234, at: Sheet.h2c(0) + Sheet.intMask)
        #expect(b.read(Sheet.h2c(0) + Sheet.intMask) == 0)
        #expect(!b.lints(containing: "32-bit accesses only").isEmpty)
    }

    @Test("IRQ block enables: RW, W1S, W1C; vector fields keep 5 bits each")
    func irqBlockRegisters() throws {
        let b = try Bench()
        b.write(Sheet.irq + 0x10, 0x1)
        b.write(Sheet.irq + 0x14, 0x2)
        #expect(b.read(Sheet.irq + 0x10) == 0x3)
        b.write(Sheet.irq + 0x18, 0xFFFF_FFFF)
        #expect(b.read(Sheet.irq + 0x10) == 0)
        b.write(Sheet.irq + 0x08, 0xFFFF)
        #expect(b.read(Sheet.irq + 0x04) == 0xFFFF)
        b.write(Sheet.irq + 0x0C, 0x00F0)
        #expect(b.read(Sheet.irq + 0x04) == 0xFF0F)
        // libxdma's off-by-one mask 0x1FFFF: bit 16 does not exist and is linted.
        b.write(Sheet.irq + 0x08, 0x1FFFF)
        #expect(b.read(Sheet.irq + 0x04) == 0xFFFF)
        #expect(!b.lints(containing: "beyond the 16 user interrupts").isEmpty)
        b.write(Sheet.irq + 0xA0, 0xFFFF_FFFF)
        #expect(b.read(Sheet.irq + 0xA0) == 0x1F1F_1F1F)
        b.write(Sheet.irq + 0x8C, 0x0302_0100)
        #expect(b.read(Sheet.irq + 0x8C) == 0x0302_0100)
    }

    @Test("Config block RW fields: PCIe control, AXI sizes, write flush timeout")
    func configWritable() throws {
        let b = try Bench()
        b.write(Sheet.config + 0x1C, 0)
        #expect(b.read(Sheet.config + 0x1C) == 0)
        b.write(Sheet.config + 0x40, 0)
        #expect(b.read(Sheet.config + 0x40) == 0x00)
        b.write(Sheet.config + 0x60, 0xFF)
        #expect(b.read(Sheet.config + 0x60) == 0x1F)
        b.write(Sheet.config + 0x18, 0)  // read-only
        #expect(b.read(Sheet.config + 0x18) == 2)
        #expect(!b.lints(containing: "read-only config block register").isEmpty)
    }

    @Test("A function reset returns registers to their reset values")
    func functionReset() throws {
        let b = try Bench()
        b.write(Sheet.h2c(0) + Sheet.intMask, 0x1234)
        b.write(Sheet.irq + 0x10, 0x3)
        b.write(Sheet.common + 0x24, 0x1)
        try b.device.reset()
        #expect(b.read(Sheet.h2c(0) + Sheet.intMask) == 0)
        #expect(b.read(Sheet.irq + 0x10) == 0)
        #expect(b.read(Sheet.common + 0x20) == 0)
        #expect(b.read(Sheet.config + 0x40) & 0x7 == 5)
    }

    @Test("Invalid configurations are refused with a message naming the allowed values")
    func configurationValidation() {
        var c = XDMAModelConfiguration()
        c.h2cEngines = Array(repeating: .memoryMapped, count: 5)
        #expect(throws: BusmasterError.self) { try XDMAModel(c) }
        var d = XDMAModelConfiguration()
        d.datapathWidthBits = 96
        do {
            _ = try XDMAModel(d)
            Issue.record("96-bit datapath accepted")
        } catch {
            #expect("\(error)".contains("64, 128, 256 or 512"))
        }
    }
}
