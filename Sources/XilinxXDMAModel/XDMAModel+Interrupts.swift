import Busmaster
import BusmasterSimulation

/// The IRQ block (§2.3) and the interrupt path (§4.4): engine and user sources, enables,
/// request/pending views, vector-number fields, and delivery by MSI-X, MSI or INTx.
extension XDMAModel {
    var userLineMask: UInt32 { settings.userInterruptCount == 0 ? 0 : (UInt32(1) << UInt32(settings.userInterruptCount)) - 1 }
    var engineMask: UInt32 { engines.isEmpty ? 0 : (UInt32(1) << UInt32(engines.count)) - 1 }

    func readIRQ(_ byte: Int) -> UInt32 {
        typealias I = R.IRQ
        switch byte {
        case R.identifier.offset: return blockIdentifier(.irq)
        case I.userEnable.offset, I.userEnableW1S.offset, I.userEnableW1C.offset: return userEnable
        case I.channelEnable.offset, I.channelEnableW1S.offset, I.channelEnableW1C.offset: return channelEnable
        case I.userRequest.offset: return userLines & userEnable
        case I.channelRequest.offset: return engineSources & channelEnable
        case I.userPending.offset: return userLines
        case I.channelPending.offset: return engineSources
        case I.userVector.offset..<(I.userVector.offset + 4 * I.userVectorRegisters) where byte % 4 == 0:
            return userVectors[(byte - I.userVector.offset) / 4]
        case I.channelVector.offset..<(I.channelVector.offset + 4 * I.channelVectorRegisters) where byte % 4 == 0:
            return channelVectors[(byte - I.channelVector.offset) / 4]
        default:
            lint("read of unmapped IRQ block offset 0x\(hex(0x2000 + byte)) (reads 0)")
            return 0
        }
    }

    func writeIRQ(_ byte: Int, _ v: UInt32) {
        typealias I = R.IRQ
        switch byte {
        case I.userEnable.offset: setUserEnable(v, set: true, alias: "0x2004")
        case I.userEnableW1S.offset: setUserEnable(userEnable | v, set: true, alias: "0x2008")
        case I.userEnableW1C.offset: setUserEnable(userEnable & ~v, set: false, alias: "0x200C")
        case I.channelEnable.offset: setChannelEnable(v)
        case I.channelEnableW1S.offset: setChannelEnable(channelEnable | v)
        case I.channelEnableW1C.offset: setChannelEnable(channelEnable & ~v)
        case I.userVector.offset..<(I.userVector.offset + 4 * I.userVectorRegisters) where byte % 4 == 0:
            userVectors[(byte - I.userVector.offset) / 4] = v & I.vectorRegisterMask
        case I.channelVector.offset..<(I.channelVector.offset + 4 * I.channelVectorRegisters) where byte % 4 == 0:
            channelVectors[(byte - I.channelVector.offset) / 4] = v & I.vectorRegisterMask
        case R.identifier.offset, I.userRequest.offset, I.channelRequest.offset, I.userPending.offset, I.channelPending.offset:
            lint("write 0x\(hex(v)) to read-only IRQ block register 0x\(hex(0x2000 + byte)) ignored")
        default:
            lint("write 0x\(hex(v)) to unmapped IRQ block offset 0x\(hex(0x2000 + byte)) ignored")
        }
    }

    private func setUserEnable(_ v: UInt32, set: Bool, alias: String) {
        if set && v & ~userLineMask != 0 {
            lint("user interrupt enable write at \(alias) sets bits 0x\(hex(v & ~userLineMask)) beyond the \(settings.userInterruptCount) user interrupts (use (1<<n)-1; libxdma's 0x1FFFF is off by one)")
        }
        userEnable = v & userLineMask
        updateInterrupts()
    }

    private func setChannelEnable(_ v: UInt32) {
        channelEnable = v & engineMask
        updateInterrupts()
    }

    /// The 5-bit vector field for engine `index` (0x20A0/0x20A4).
    func channelVector(_ index: Int) -> Int {
        Int(channelVectors[index / R.IRQ.vectorsPerRegister] >> UInt32(R.IRQ.vectorFieldStride * (index % R.IRQ.vectorsPerRegister)) & R.IRQ.vectorField.mask)
    }

    /// The 5-bit vector field for user interrupt `n` (0x2080–0x208C).
    func userVector(_ n: Int) -> Int {
        Int(userVectors[n / R.IRQ.vectorsPerRegister] >> UInt32(R.IRQ.vectorFieldStride * (n % R.IRQ.vectorsPerRegister)) & R.IRQ.vectorField.mask)
    }

    /// Re-evaluates every source after a change: fires a message on each rising request
    /// edge, or drives the INTx level (§4.4).
    func updateInterrupts() {
        var sources: UInt32 = 0
        for e in engines where e.status & e.interruptMask & R.Status.latched.mask != 0 {
            sources |= UInt32(1) << UInt32(e.index)
        }
        engineSources = sources
        let channelRequest = sources & channelEnable
        let userRequest = userLines & userEnable
        let risingChannels = channelRequest & ~lastChannelRequest
        let risingUsers = userRequest & ~lastUserRequest
        lastChannelRequest = channelRequest
        lastUserRequest = userRequest
        guard let ctx = context else { return }
        if ctx.msixEnabled || ctx.msiEnabled {
            if intxLevel { driveINTx(false) }
            var bits = risingChannels
            while bits != 0 {
                let e = bits.trailingZeroBitCount
                bits &= bits - 1
                sendMessage(vector: channelVector(e), source: "\(engines[e].id)")
            }
            bits = risingUsers
            while bits != 0 {
                let n = bits.trailingZeroBitCount
                bits &= bits - 1
                sendMessage(vector: userVector(n), source: "user interrupt \(n)")
            }
        } else {
            driveINTx(intxRequested(channelRequest, userRequest))
        }
    }

    /// Whether a request routed to this function's INTx pin is active (vector bits 1:0 = pin - 1).
    private func intxRequested(_ channelRequest: UInt32, _ userRequest: UInt32) -> Bool {
        guard settings.interruptPin != 0 else { return false }
        let line = Int(settings.interruptPin) - 1
        var level = false
        var bits = channelRequest
        while bits != 0 {
            let e = bits.trailingZeroBitCount
            bits &= bits - 1
            let l = Int(UInt32(channelVector(e)) & R.IRQ.intxLine.mask)
            if l == line { level = true } else { lintOnce("intx-\(e)", "\(engines[e].id) interrupt is routed to INT\(Character(UnicodeScalar(UInt8(65 + l)))) but the function's pin is INT\(Character(UnicodeScalar(UInt8(65 + line)))); it is never seen") }
        }
        bits = userRequest
        while bits != 0 {
            let n = bits.trailingZeroBitCount
            bits &= bits - 1
            let l = Int(UInt32(userVector(n)) & R.IRQ.intxLine.mask)
            if l == line { level = true } else { lintOnce("intx-user-\(n)", "user interrupt \(n) is routed to INTx line \(l) but the function's pin is line \(line); it is never seen") }
        }
        return level
    }

    private func driveINTx(_ level: Bool) {
        guard level != intxLevel else { return }
        intxLevel = level
        if level { stats.intxAssertions += 1 }
        record(.intx(asserted: level))
        context?.setINTx(level)
    }

    private func sendMessage(vector: Int, source: String) {
        guard let ctx = context else { return }
        if faultState.messagesToDrop > 0 {
            faultState.messagesToDrop -= 1
            stats.messagesDropped += 1
            record(.message(vector: vector, delivered: false))
            return
        }
        let ok: Bool
        var sent = vector
        if ctx.msixEnabled {
            ok = ctx.signalMSIX(vector: vector)
        } else {
            // Multiple Message Enable lets the function vary only the low log2(n) bits of the data.
            var allowed = 1
            while allowed * 2 <= ctx.enabledVectors { allowed *= 2 }
            sent = vector & (allowed - 1)
            if sent != vector {
                lintOnce("msi-\(vector)", "\(source) uses MSI vector \(vector) but only \(allowed) MSI vectors are enabled; it arrives as vector \(sent)")
            }
            ok = ctx.signalMSI(vector: sent)
        }
        if ok {
            stats.messagesSent += 1
            stats.messagesPerVector[sent, default: 0] += 1
        } else {
            stats.messagesLost += 1
            if sent >= ctx.enabledVectors {
                lintOnce("vector-\(sent)", "\(source) uses vector \(sent) but only \(ctx.enabledVectors) vectors are enabled; the message is lost")
            }
        }
        record(.message(vector: sent, delivered: ok))
    }

    /// Sets or clears user interrupt line `n` (user logic's usr_irq_req).
    func setUserLine(_ n: Int, _ high: Bool) {
        let bit = UInt32(1) << UInt32(n)
        let old = userLines
        if high { userLines |= bit } else { userLines &= ~bit }
        guard userLines != old else { return }
        record(.userLine(n, high: high))
        updateInterrupts()
    }
}
