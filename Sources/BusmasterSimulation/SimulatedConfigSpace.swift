import Busmaster

/// Config space of a simulated function, built from a ``ModelConfiguration``: a type 0
/// header, sizable BARs, and MSI / MSI-X / PCIe capabilities, with the standard write
/// semantics (RW command bits, W1C status, BAR sizing, MSI and MSI-X enables).
struct SimulatedConfigSpace {
    private(set) var bytes: [UInt8]
    private var writable: [UInt8]  // per-byte mask of RW bits
    let configuration: ModelConfiguration
    private var barSizing = [Bool](repeating: false, count: 6)
    let barAddresses: [Int: UInt64]
    private(set) var msiOffset: Int?
    private(set) var msixOffset: Int?
    private(set) var pcieOffset: Int?

    static let msiCapOffset = 0x40
    static let msixCapOffset = 0x60
    static let pcieCapOffset = 0x70

    init(configuration c: ModelConfiguration, barAddresses: [Int: UInt64]) {
        self.configuration = c
        self.barAddresses = barAddresses
        let size = c.pcie != nil ? 4096 : 256
        bytes = [UInt8](repeating: 0, count: size)
        writable = [UInt8](repeating: 0, count: size)
        put16(0x00, c.vendorID)
        put16(0x02, c.deviceID)
        bytes[0x08] = c.revision
        bytes[0x09] = UInt8(c.classCode & 0xFF)
        bytes[0x0A] = UInt8(c.classCode >> 8 & 0xFF)
        bytes[0x0B] = UInt8(c.classCode >> 16 & 0xFF)
        put16(0x2C, c.subsystemVendorID)
        put16(0x2E, c.subsystemID)
        bytes[0x3D] = c.interruptPin
        bytes[0x3C] = c.interruptPin != 0 ? 0x0B : 0xFF
        writable[0x3C] = 0xFF
        // COMMAND: I/O, memory, bus master, SERR, INTx disable are writable.
        writable[0x04] = 0x07
        writable[0x05] = 0x05
        writable[0x0C] = 0xFF
        writable[0x0D] = 0xFF
        for b in c.bars {
            var low = UInt32(truncatingIfNeeded: barAddresses[b.index] ?? 0) & ~0xF
            if b.is64Bit { low |= 0x4 }
            if b.isPrefetchable { low |= 0x8 }
            put32(0x10 + 4 * b.index, low)
            if b.is64Bit { put32(0x10 + 4 * (b.index + 1), UInt32((barAddresses[b.index] ?? 0) >> 32)) }
        }
        var caps: [Int] = []
        if c.msi != nil { caps.append(Self.msiCapOffset) }
        if c.msix != nil { caps.append(Self.msixCapOffset) }
        if c.pcie != nil { caps.append(Self.pcieCapOffset) }
        if let first = caps.first {
            bytes[0x06] |= 0x10
            bytes[0x34] = UInt8(first)
        }
        func next(after o: Int) -> UInt8 { UInt8(caps.first { $0 > o } ?? 0) }
        if let msi = c.msi {
            let o = Self.msiCapOffset
            msiOffset = o
            bytes[o] = UInt8(Capabilitiesx.msi)
            bytes[o + 1] = next(after: o)
            var ctl: UInt16 = UInt16(log2(msi.vectors)) << 1
            if msi.is64Bit { ctl |= 1 << 7 }
            if msi.perVectorMasking { ctl |= 1 << 8 }
            put16(o + 2, ctl)
            writable[o + 2] = 0x71  // enable + multiple message enable
            for i in 4..<(msi.is64Bit ? 14 : 10) { writable[o + i] = 0xFF }
        }
        if let msix = c.msix {
            let o = Self.msixCapOffset
            msixOffset = o
            bytes[o] = UInt8(Capabilitiesx.msix)
            bytes[o + 1] = next(after: o)
            put16(o + 2, UInt16(msix.vectors - 1))
            writable[o + 3] = 0xC0  // enable, function mask
            put32(o + 4, UInt32(msix.tableOffset) | UInt32(msix.tableBAR))
            put32(o + 8, UInt32(msix.pbaOffset) | UInt32(msix.pbaBAR))
        }
        if let pcie = c.pcie {
            let o = Self.pcieCapOffset
            pcieOffset = o
            bytes[o] = UInt8(Capabilitiesx.pciExpress)
            bytes[o + 1] = next(after: o)
            put16(o + 2, 0x0002)  // version 2, endpoint
            put32(o + 4, UInt32(pcie.maxPayloadCode & 7))  // DevCap
            put16(o + 8, 0x2810)  // DevCtl: MRRS 512, MPS 128, RO, ExtTag
            writable[o + 8] = 0xFF
            writable[o + 9] = 0x7F
            put32(o + 12, UInt32(pcie.linkSpeed) | UInt32(pcie.linkWidth) << 4)  // LnkCap
            put16(o + 18, UInt16(pcie.linkSpeed) | UInt16(pcie.linkWidth) << 4)  // LnkSta
            // Extended capability list: one empty header at 0x100 (no extended caps).
        }
    }

    private mutating func put16(_ o: Int, _ v: UInt16) {
        bytes[o] = UInt8(v & 0xFF)
        bytes[o + 1] = UInt8(v >> 8)
    }
    private mutating func put32(_ o: Int, _ v: UInt32) {
        put16(o, UInt16(v & 0xFFFF))
        put16(o + 2, UInt16(v >> 16))
    }

    func read(_ offset: Int, _ width: AccessWidth) -> UInt64 {
        // BAR registers read their size mask after all-ones was written.
        if (0x10..<0x28).contains(offset) && width == .dword {
            let i = (offset - 0x10) / 4
            if barSizing[i] { return UInt64(sizeMask(bar: i)) }
        }
        var v: UInt64 = 0
        for k in 0..<width.bytes where offset + k < bytes.count { v |= UInt64(bytes[offset + k]) << UInt64(8 * k) }
        return v
    }

    private func sizeMask(bar i: Int) -> UInt32 {
        if let b = configuration.bars.first(where: { $0.index == i }) {
            var m = ~UInt32(truncatingIfNeeded: b.size - 1) & ~0xF
            if b.is64Bit { m |= 4 }
            if b.isPrefetchable { m |= 8 }
            return m
        }
        if let b = configuration.bars.first(where: { $0.is64Bit && $0.index + 1 == i }) {
            return UInt32(truncatingIfNeeded: ~UInt64(b.size - 1) >> 32)
        }
        return 0
    }

    /// Applies a driver write; returns true when a field a model cares about changed.
    mutating func write(_ offset: Int, _ width: AccessWidth, _ value: UInt64) -> Bool {
        if (0x10..<0x28).contains(offset) && width == .dword {
            // BAR sizing: all-ones starts sizing; anything else restores the assigned address.
            barSizing[(offset - 0x10) / 4] = UInt32(truncatingIfNeeded: value) == 0xFFFF_FFFF
            return false
        }
        let before = bytes
        for k in 0..<width.bytes where offset + k < bytes.count {
            let o = offset + k
            let b = UInt8(truncatingIfNeeded: value >> UInt64(8 * k))
            if o == 0x06 || o == 0x07 {
                bytes[o] &= ~(b & 0xF9)  // status: W1C error bits
            } else {
                bytes[o] = (bytes[o] & ~writable[o]) | (b & writable[o])
            }
        }
        return before != bytes
    }

    /// Sets the read-only INTx status bit (status bit 3).
    mutating func setINTxStatus(_ on: Bool) {
        if on { bytes[0x06] |= 0x08 } else { bytes[0x06] &= ~0x08 }
    }

    var command: UInt16 { UInt16(bytes[0x04]) | UInt16(bytes[0x05]) << 8 }
    var busMaster: Bool { command & 0x4 != 0 }
    var memoryEnabled: Bool { command & 0x2 != 0 }
    var intxDisabled: Bool { command & 0x400 != 0 }

    var msiEnabled: Bool { msiOffset.map { bytes[$0 + 2] & 1 != 0 } ?? false }
    mutating func setMSI(enabled: Bool, vectors: Int) {
        guard let o = msiOffset else { return }
        var ctl = bytes[o + 2] & ~0x71
        if enabled { ctl |= 1 | UInt8(log2(vectors) << 4) }
        bytes[o + 2] = ctl
    }
    var msixEnabled: Bool { msixOffset.map { bytes[$0 + 3] & 0x80 != 0 } ?? false }
    var msixFunctionMasked: Bool { msixOffset.map { bytes[$0 + 3] & 0x40 != 0 } ?? false }
    mutating func setMSIX(enabled: Bool) {
        guard let o = msixOffset else { return }
        if enabled { bytes[o + 3] |= 0x80 } else { bytes[o + 3] &= ~0x80 }
    }
}

private func log2(_ n: Int) -> Int {
    var k = 0
    while (1 << k) < n { k += 1 }
    return k
}

/// Capability IDs used by the simulated config space.
enum Capabilitiesx {
    static let msi = 0x05
    static let msix = 0x11
    static let pciExpress = 0x10
}
