import Busmaster
import BusmasterSimulation

/// The config block (§2.4), the SGDMA common block (§2.6) and the MSI-X table / PBA storage (§2.7).
extension XDMAModel {
    // MARK: Config block (0x3000)

    func readConfig(_ byte: Int) -> UInt32 {
        typealias C = R.Config
        switch byte {
        case R.identifier.offset: return blockIdentifier(.config)
        case C.busDev.offset:
            guard let a = context?.address else { return 0 }
            return UInt32(a.bus) << 8 | UInt32(a.device) << 3 | UInt32(a.function)
        case C.maxPayload.offset: return UInt32(settings.maxPayloadCode)
        case C.maxReadRequest.offset: return UInt32(settings.maxReadRequestCode)
        case C.systemID.offset: return UInt32(settings.systemID)
        case C.msiEnable.offset:
            var v: UInt32 = 0
            if context?.msiEnabled == true { v |= C.msiEnabled.mask }
            if context?.msixEnabled == true { v |= C.msixEnabled.mask }
            return v
        case C.datapathWidth.offset: return settings.datapathWidthCode
        case C.pcieControl.offset: return pcieControl
        case C.axiMaxPayload.offset: return sizeRegister(axiMaxPayloadProgrammed, limit: settings.maxPayloadCode)
        case C.axiMaxReadRequest.offset: return sizeRegister(axiMaxReadRequestProgrammed, limit: settings.maxReadRequestCode)
        case C.writeFlushTimeout.offset: return writeFlushTimeout
        default:
            lint("read of unmapped config block offset 0x\(hex(0x3000 + byte)) (reads 0)")
            return 0
        }
    }

    /// Effective (6:4) = min(programmed, PCIe code) (inf); programmed in 2:0.
    private func sizeRegister(_ programmed: UInt32, limit: Int) -> UInt32 {
        R.Config.effectiveSize.encode(min(programmed, UInt32(limit))) | programmed
    }

    func writeConfig(_ byte: Int, _ v: UInt32) {
        typealias C = R.Config
        switch byte {
        case C.pcieControl.offset: pcieControl = v & C.relaxedOrdering.mask
        case C.axiMaxPayload.offset: axiMaxPayloadProgrammed = v & C.programmedSize.mask
        case C.axiMaxReadRequest.offset: axiMaxReadRequestProgrammed = v & C.programmedSize.mask
        case C.writeFlushTimeout.offset: writeFlushTimeout = v & C.flushTimeout.mask
        case R.identifier.offset, C.busDev.offset, C.maxPayload.offset, C.maxReadRequest.offset, C.systemID.offset,
            C.msiEnable.offset, C.datapathWidth.offset:
            lint("write 0x\(hex(v)) to read-only config block register 0x\(hex(0x3000 + byte)) ignored")
        default:
            lint("write 0x\(hex(v)) to unmapped config block offset 0x\(hex(0x3000 + byte)) ignored")
        }
    }

    // MARK: SGDMA common (0x6000)

    private var commonMask: UInt32 { R.Common.h2cChannels.mask | R.Common.c2hChannels.mask }

    func readCommon(_ byte: Int) -> UInt32 {
        typealias M = R.Common
        switch byte {
        case R.identifier.offset: return blockIdentifier(.sgdmaCommon)
        case M.halt.offset, M.haltW1S.offset, M.haltW1C.offset: return haltBits
        case M.creditMode.offset, M.creditModeW1S.offset, M.creditModeW1C.offset: return creditModeBits
        default:
            lint("read of unmapped SGDMA common offset 0x\(hex(0x6000 + byte)) (reads 0)")
            return 0
        }
    }

    func writeCommon(_ byte: Int, _ v: UInt32) {
        typealias M = R.Common
        switch byte {
        case M.halt.offset: setHalt(v)
        case M.haltW1S.offset: setHalt(haltBits | v)
        case M.haltW1C.offset: setHalt(haltBits & ~v)
        case M.creditMode.offset: setCreditMode(v)
        case M.creditModeW1S.offset: setCreditMode(creditModeBits | v)
        case M.creditModeW1C.offset: setCreditMode(creditModeBits & ~v)
        case R.identifier.offset:
            lint("write 0x\(hex(v)) to the read-only SGDMA common identifier ignored")
        default:
            lint("write 0x\(hex(v)) to unmapped SGDMA common offset 0x\(hex(0x6000 + byte)) ignored")
        }
    }

    private func setHalt(_ v: UInt32) {
        let released = haltBits & ~v
        haltBits = v & commonMask
        if released != 0 { for e in engines where released & commonBit(e) != 0 { e.kick() } }
    }

    private func setCreditMode(_ v: UInt32) {
        let old = creditModeBits
        creditModeBits = v & commonMask
        let switchedOff = old & ~creditModeBits
        for e in engines where switchedOff & commonBit(e) != 0 {
            e.credits = 0
            e.kick()
        }
    }

    // MARK: MSI-X table and PBA (0x8000)

    func readMSIX(_ offset: Int) -> UInt32 {
        let tableEnd = R.MSIX.tableOffset + msixTable.count * 4
        if offset >= R.MSIX.tableOffset && offset < tableEnd { return msixTable[(offset - R.MSIX.tableOffset) / 4] }
        // PBA: nothing is ever pending, because the model does not honour table masks (see writeMSIX).
        return 0
    }

    func writeMSIX(_ offset: Int, _ v: UInt32) {
        let tableEnd = R.MSIX.tableOffset + msixTable.count * 4
        if offset >= R.MSIX.tableOffset && offset < tableEnd {
            msixTable[(offset - R.MSIX.tableOffset) / 4] = v
            // Plain storage: under VFIO the host programs vectors with VFIO_DEVICE_SET_IRQS and
            // the kernel owns the table, so the model delivers regardless of these words.
            lintOnce("msix-table", "MSI-X table written directly at 0x\(hex(offset)); program vectors through VFIO_DEVICE_SET_IRQS instead")
        } else if offset >= R.MSIX.pbaOffset {
            lint("write 0x\(hex(v)) to the read-only MSI-X PBA at 0x\(hex(offset)) ignored")
        } else {
            lint("write 0x\(hex(v)) to unmapped MSI-X region offset 0x\(hex(offset)) ignored")
        }
    }
}
