import Busmaster
import BusmasterSimulation

/// The AXI-Lite user BAR (the model's example user logic, ``XDMAModelUserBAR``) and the
/// bypass BAR straight onto card memory.
extension XDMAModel {
    func readUser(_ offset: Int, _ width: AccessWidth) -> UInt64 {
        typealias U = XDMAModelUserBAR
        if offset == U.probeTrapLow.offset || offset == U.probeTrapHigh.offset {
            stats.userBARProbeReads += 1
            if settings.userBARReadSideEffects {
                for i in scratchRegisters.indices { scratchRegisters[i] = 0 }
                lint("read of user BAR 0x\(hex(offset)) has a side effect (it clears the design's event latch); a blind DMA-BAR probe? (§1.3, #250)")
            }
            return UInt64(stats.userBARProbeReads)
        }
        guard width == .dword else {
            lint("\(width) read at user BAR offset 0x\(hex(offset)); AXI-Lite registers are 32-bit (reads 0)")
            return 0
        }
        let scratchEnd = U.scratch.offset + 4 * U.scratchCount
        if offset >= U.scratch.offset && offset < scratchEnd { return UInt64(scratchRegisters[(offset - U.scratch.offset) / 4]) }
        switch offset {
        case U.userInterruptLines.offset, U.userInterruptClear.offset, U.userInterruptRaise.offset: return UInt64(userLines)
        default: return 0
        }
    }

    func writeUser(_ offset: Int, _ width: AccessWidth, _ value: UInt64) {
        typealias U = XDMAModelUserBAR
        guard width == .dword else {
            lint("\(width) write at user BAR offset 0x\(hex(offset)) ignored; AXI-Lite registers are 32-bit")
            return
        }
        let v = UInt32(truncatingIfNeeded: value)
        let scratchEnd = U.scratch.offset + 4 * U.scratchCount
        if offset >= U.scratch.offset && offset < scratchEnd {
            scratchRegisters[(offset - U.scratch.offset) / 4] = v
            return
        }
        switch offset {
        case U.userInterruptClear.offset:
            for n in 0..<settings.userInterruptCount where v & (UInt32(1) << UInt32(n)) != 0 { setUserLine(n, false) }
        case U.userInterruptRaise.offset:
            for n in 0..<settings.userInterruptCount where v & (UInt32(1) << UInt32(n)) != 0 { setUserLine(n, true) }
        default:
            break  // the rest of the design decodes nothing; writes vanish
        }
    }

    func readBypass(_ offset: Int, _ width: AccessWidth) -> UInt64 {
        guard card.contains(UInt64(offset), width.bytes) else {
            lint("bypass BAR read at 0x\(hex(offset)) is beyond the \(card.size)-byte card memory (reads 0)")
            return 0
        }
        let p = UnsafeRawPointer(card.base + offset)
        switch width {
        case .byte: return UInt64(p.load(as: UInt8.self))
        case .word: return UInt64(UInt16(littleEndian: p.loadUnaligned(as: UInt16.self)))
        case .dword: return UInt64(UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)))
        case .qword: return UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))
        }
    }

    func writeBypass(_ offset: Int, _ width: AccessWidth, _ value: UInt64) {
        guard card.contains(UInt64(offset), width.bytes) else {
            lint("bypass BAR write at 0x\(hex(offset)) is beyond the \(card.size)-byte card memory; dropped")
            return
        }
        let p = card.base + offset
        switch width {
        case .byte: p.storeBytes(of: UInt8(truncatingIfNeeded: value), as: UInt8.self)
        case .word: p.storeBytes(of: UInt16(truncatingIfNeeded: value).littleEndian, as: UInt16.self)
        case .dword: p.storeBytes(of: UInt32(truncatingIfNeeded: value).littleEndian, as: UInt32.self)
        case .qword: p.storeBytes(of: value.littleEndian, as: UInt64.self)
        }
    }
}
