import Busmaster
import BusmasterLinux
import CLibPCI
import CPCIShim

/// Turns a libpci `pci_dev` into a ``PCIDeviceInfo``. Callers hold ``libpciLock``; a
/// thrown ``LibPCIError/libpci(_:)`` means the access must be discarded.
enum LibPCIDeviceDecoder {
    /// Everything the enumeration asks libpci to fill.
    static let fillFlags: Int32 =
        PCI_FILL_IDENT | PCI_FILL_IRQ | PCI_FILL_BASES | PCI_FILL_ROM_BASE | PCI_FILL_SIZES | PCI_FILL_CLASS | PCI_FILL_CAPS
        | PCI_FILL_EXT_CAPS | PCI_FILL_IO_FLAGS | PCI_FILL_IOMMU_GROUP | PCI_FILL_CLASS_EXT | PCI_FILL_SUBSYS | PCI_FILL_DRIVER

    static func check(_ rc: Int32) throws {
        if rc != 0 { throw LibPCIError.libpci(String(cString: pcishim_last_error())) }
    }

    /// Reads `count` config bytes at `offset`, or nil when libpci cannot supply them.
    static func read(_ d: UnsafeMutablePointer<pci_dev>, offset: Int, count: Int) throws -> [UInt8]? {
        var bytes = [UInt8](repeating: 0xFF, count: count)
        var ok: Int32 = 0
        try check(bytes.withUnsafeMutableBufferPointer { pcishim_read_block(d, Int32(offset), $0.baseAddress!, Int32(count), &ok) })
        return ok != 0 ? bytes : nil
    }

    /// The readable config-space size: `known` for dumps, else the largest of 4096/256/64 libpci can read.
    static func configSize(_ d: UnsafeMutablePointer<pci_dev>, known: Int?) throws -> Int {
        if let known { return known }
        for size in [4096, 256, 64] where try read(d, offset: 0, count: size) != nil { return size }
        return 0
    }

    static func info(
        _ d: UnsafeMutablePointer<pci_dev>, access: UnsafeMutablePointer<pci_access>, configSize known: Int?, names: Bool
    ) throws -> PCIDeviceInfo {
        var filled: Int32 = 0
        try check(pcishim_fill(d, fillFlags, &filled))
        let dev = d.pointee
        let address = PCIAddress(domain: UInt32(bitPattern: dev.domain), bus: dev.bus, device: dev.dev, function: dev.`func`)
        let size = try configSize(d, known: known)
        let config = size > 0 ? try read(d, offset: 0, count: size) ?? [] : []
        func byte(_ o: Int) -> UInt8 { o < config.count ? config[o] : 0xFF }
        let r = ConfigRegisters.self
        let header = config.count > r.headerType.offset ? byte(r.headerType.offset) & 0x7F : 0
        let progIF = filled & PCI_FILL_CLASS_EXT != 0 ? dev.prog_if : byte(r.progIF.offset)
        let revision = filled & PCI_FILL_CLASS_EXT != 0 ? dev.rev_id : byte(r.revision.offset)
        var info = PCIDeviceInfo(
            address: address, vendorID: dev.vendor_id, deviceID: dev.device_id,
            classCode: UInt32(dev.device_class) << 8 | UInt32(progIF), revision: revision, headerType: header,
            irq: dev.irq == 0 || dev.irq == 0xFF ? nil : Int(dev.irq),
            interruptPin: config.count > r.interruptPin.offset ? byte(r.interruptPin.offset) : 0,
            configSize: size)
        if filled & PCI_FILL_SUBSYS != 0 {
            info.subsystemVendorID = dev.subsys_vendor_id
            info.subsystemID = dev.subsys_id
        } else if header == 0 && config.count >= r.subsystemID.offset + 2 {
            let sv = r.subsystemVendorID.offset
            let sd = r.subsystemID.offset
            info.subsystemVendorID = UInt16(byte(sv)) | UInt16(byte(sv + 1)) << 8
            info.subsystemID = UInt16(byte(sd)) | UInt16(byte(sd + 1)) << 8
        }
        info.bars = bars(dev, filled: filled, headerType: header)
        info.capabilities = capabilities(dev, config: config)
        info.driver = try string(d, UInt32(PCI_FILL_DRIVER))
        info.iommuGroup = try string(d, UInt32(PCI_FILL_IOMMU_GROUP)).flatMap { Int($0) }
        if names { info.names = try LibPCINames.names(access, for: info) }
        return info
    }

    static func string(_ d: UnsafeMutablePointer<pci_dev>, _ property: UInt32) throws -> String? {
        var out: UnsafePointer<CChar>?
        try check(pcishim_string_property(d, property, &out))
        return out.map { String(cString: $0) }
    }

    /// BARs from `base_addr` (with its flag bits), `size`, and `flags` when libpci knows them.
    static func bars(_ dev: pci_dev, filled: Int32, headerType: UInt8) -> [BARInfo] {
        let bases = withUnsafeBytes(of: dev.base_addr) { Array($0.bindMemory(to: UInt64.self)) }
        let sizes = withUnsafeBytes(of: dev.size) { Array($0.bindMemory(to: UInt64.self)) }
        let flags = withUnsafeBytes(of: dev.flags) { Array($0.bindMemory(to: UInt64.self)) }
        let haveSizes = filled & PCI_FILL_SIZES != 0
        let haveFlags = filled & PCI_FILL_IO_FLAGS != 0
        let count = headerType == 0 ? 6 : headerType == 1 ? 2 : 0
        var out: [BARInfo] = []
        var i = 0
        while i < count {
            let raw = bases[i]
            let size = haveSizes ? sizes[i] : 0
            let isIO: Bool
            var is64: Bool
            var prefetch: Bool
            if haveFlags && flags[i] != 0 {
                isIO = flags[i] & SysfsResource.flagIO != 0
                is64 = flags[i] & SysfsResource.flagMem64 != 0
                prefetch = flags[i] & SysfsResource.flagPrefetch != 0
            } else {
                isIO = raw & BARBits.io != 0
                is64 = !isIO && raw & BARBits.memTypeMask == BARBits.memType64
                prefetch = !isIO && raw & BARBits.prefetchable != 0
            }
            if isIO { is64 = false; prefetch = false }
            let address = isIO ? raw & ~BARBits.ioFlagMask : raw & ~BARBits.memFlagMask
            if address != 0 || size != 0 {
                out.append(BARInfo(index: i, address: address, size: size, kind: isIO ? .io : .memory, is64Bit: is64, isPrefetchable: prefetch))
            }
            i += is64 ? 2 : 1
        }
        return out
    }

    /// The capability list libpci built, in its order; extended versions from config.
    static func capabilities(_ dev: pci_dev, config: [UInt8]) -> [PCICapability] {
        var out: [PCICapability] = []
        var cap = dev.first_cap
        var guardCount = 0
        while let c = cap, guardCount < 1024 {
            let offset = Int(c.pointee.addr)
            let extended = Int32(c.pointee.type) == PCI_CAP_EXTENDED
            var version: UInt8 = 0
            if extended && offset + 2 < config.count { version = config[offset + 2] & 0xF }
            out.append(PCICapability(id: c.pointee.id, offset: offset, isExtended: extended, version: version))
            cap = c.pointee.next
            guardCount += 1
        }
        return out
    }
}

/// The flag bits in the low part of a BAR register (and of libpci's `base_addr`).
enum BARBits {
    /// Bit 0: I/O space.
    static let io: UInt64 = 0x1
    /// Bits 2:1: memory type.
    static let memTypeMask: UInt64 = 0x6
    /// Memory type 10b: 64-bit.
    static let memType64: UInt64 = 0x4
    /// Bit 3: prefetchable.
    static let prefetchable: UInt64 = 0x8
    /// Flag bits of an I/O BAR (libpci's missing `PCI_ADDR_IO_MASK` complement).
    static let ioFlagMask: UInt64 = 0x3
    /// Flag bits of a memory BAR (libpci's missing `PCI_ADDR_MEM_MASK` complement).
    static let memFlagMask: UInt64 = 0xF
}
