#if canImport(Glibc)
    import Glibc
#endif
import Busmaster
import BusmasterSimulation

/// The engine's data path (§4.3): descriptor fetch with the adjacency rules, validation,
/// data movement in bounded chunks per scheduled event, completion bookkeeping and errors.
extension XDMAEngine {
    /// What moving data for the current descriptor came to.
    enum MoveResult {
        /// The descriptor's data is done (or its C2H-ST buffer closed).
        case done
        /// Waiting for stream data or stream space.
        case blocked
        /// An error stopped or froze the engine.
        case failed
        /// The per-event byte budget is used up.
        case budgetUsed
        /// Rate-limited: continue after this much simulated time.
        case pause(Duration)
    }

    enum FetchResult { case fetched, wait, failed }

    var canProgress: Bool { (phase == .running || phase == .draining) && !stuck && !hung }

    /// Schedules the next step unless one is pending or the engine cannot progress.
    func kick(after delay: Duration = .zero) {
        guard pending == nil, canProgress, let ctx = model.context else { return }
        pending = ctx.schedule(after: delay) { [unowned self] in
            self.pending = nil
            self.step()
        }
    }

    /// One scheduled slice of engine work.
    func step() {
        guard canProgress else { return }
        waiting = false
        var bytesBudget = model.settings.bytesPerEvent
        var descriptorBudget = model.settings.descriptorsPerEvent
        while canProgress {
            if current == nil {
                if phase == .draining {
                    becomeIdle()
                    return
                }
                if queueIndex >= queue.count {
                    if chainEnded { return }
                    switch fetch() {
                    case .fetched: continue
                    case .wait:
                        waiting = true
                        return
                    case .failed: return
                    }
                }
                guard descriptorBudget > 0 else {
                    kick()
                    return
                }
                descriptorBudget -= 1
                current = queue[queueIndex]
                queueIndex += 1
                currentDone = 0
                currentClosed = false
                currentEndOfPacket = false
                guard validateCurrent() else { return }
            }
            guard bytesBudget > 0 else {
                kick()
                return
            }
            switch move(budget: &bytesBudget) {
            case .done: complete()
            case .blocked:
                waiting = true
                return
            case .failed: return
            case .budgetUsed:
                kick()
                return
            case .pause(let d):
                kick(after: d)
                return
            }
        }
    }

    // MARK: Fetch (§3.2, §4.3 step 1)

    private func fetch() -> FetchResult {
        guard fetchRemaining > 0 else {
            chainEnded = true
            return .wait
        }
        if model.isHalted(self) { return .wait }
        var n = fetchRemaining
        if model.isCreditMode(self) {
            guard credits > 0 else { return .wait }
            n = min(n, credits)
        }
        let address = fetchAddress
        if blockFetched == 0 {
            if address % UInt64(R.Descriptor.size) != 0 {
                model.lint("\(id) descriptor address 0x\(hex(address)) is not 32-byte aligned")
            }
            let last = address &+ UInt64(fetchRemaining * R.Descriptor.size - 1)
            if address >> 12 != last >> 12 {
                model.lint("\(id) block of \(fetchRemaining) adjacent descriptors at 0x\(hex(address)) crosses a 4 KiB boundary")
            }
        }
        let bytes = n * R.Descriptor.size
        if let e = model.injectedReadError(address, bytes, descriptor: true) {
            fetchFailed(e, cause: "descriptor fetch at 0x\(hex(address)): injected \(e)")
            return .failed
        }
        do {
            try model.context!.dmaRead(at: address, into: UnsafeMutableRawBufferPointer(start: fetchBuffer, count: bytes))
        } catch {
            model.lint("\(id) descriptor fetch was refused (\(error)); was the descriptor memory unmapped, or Nxt_adr wrong?")
            fetchFailed(.unsupportedRequest, cause: "descriptor fetch: \(error)")
            return .failed
        }
        queue.removeAll(keepingCapacity: true)
        queueIndex = 0
        var stopSeen = false
        for i in 0..<n {
            let p = fetchBuffer + i * R.Descriptor.size
            var control = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: R.Descriptor.controlOffset, as: UInt32.self))
            fetchedTotal += 1
            if !corruptions.isEmpty { control = corrupt(control) }
            let rawLength = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: R.Descriptor.lengthOffset, as: UInt32.self))
            let d = Descriptor(
                control: control,
                length: Int(R.Descriptor.length.extract(from: rawLength)),
                source: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: R.Descriptor.sourceOffset, as: UInt64.self)),
                destination: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: R.Descriptor.destinationOffset, as: UInt64.self)),
                next: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: R.Descriptor.nextOffset, as: UInt64.self)),
                address: address &+ UInt64(i * R.Descriptor.size),
                lastInBlock: i == n - 1 && fetchRemaining == n)
            lintDescriptor(d, rawLength: rawLength)
            if d.stop {
                if !d.lastInBlock && !stopSeen {
                    model.lint("\(id) descriptor at 0x\(hex(d.address)) has Stop but is not the last of its adjacent block")
                }
                stopSeen = true
            }
            queue.append(d)
        }
        if model.isCreditMode(self) { credits -= n }
        model.stats.descriptorsFetched += n
        model.record(.descriptorsFetched(id, address: address, count: n))
        fetchAddress = address &+ UInt64(bytes)
        fetchRemaining -= n
        blockFetched += n
        if stopSeen {
            chainEnded = true
            fetchRemaining = 0
        } else if fetchRemaining == 0, let last = queue.last {
            fetchAddress = last.next
            fetchRemaining = 1 + last.nextAdjacent
            blockFetched = 0
        }
        return .fetched
    }

    private func corrupt(_ control: UInt32) -> UInt32 {
        var c = control
        corruptions.removeAll { entry in
            guard entry.fetch == fetchedTotal else { return false }
            switch entry.kind {
            case .badMagic:
                c = R.Descriptor.magic.insert(R.Descriptor.magicValue ^ 0xFFFF, into: c)
            case .flipFlags(let f):
                c ^= UInt32(f)
            }
            return true
        }
        return c
    }

    private func lintDescriptor(_ d: Descriptor, rawLength: UInt32) {
        if R.Descriptor.magic.extract(from: d.control) == R.Descriptor.magicValue {
            let reserved = (d.control & (R.Descriptor.reservedControl.mask | R.Descriptor.reservedFlags))
            if reserved != 0 {
                model.lint("\(id) descriptor at 0x\(hex(d.address)) sets reserved control bits 0x\(hex(reserved))")
            }
        }
        if R.Descriptor.lengthReserved.extract(from: rawLength) != 0 {
            model.lint("\(id) descriptor at 0x\(hex(d.address)) sets length bits 31:28 (0x\(hex(rawLength))); lengths are 28 bits")
        }
        if !d.lastInBlock && !d.stop && d.next != d.address &+ UInt64(R.Descriptor.size) {
            model.lint("\(id) descriptor at 0x\(hex(d.address)) inside an adjacent block has Nxt_adr 0x\(hex(d.next)), not the next slot 0x\(hex(d.address &+ 32))")
        }
        if d.lastInBlock && !d.stop && d.next % UInt64(R.Descriptor.size) != 0 {
            model.lint("\(id) descriptor at 0x\(hex(d.address)) has Nxt_adr 0x\(hex(d.next)), not 32-byte aligned")
        }
    }

    private func fetchFailed(_ e: XDMAModelBusError, cause: String) {
        var bits = UInt32(1) << UInt32(R.Status.descriptorErrorShift + e.groupBit)
        if model.settings.fetchErrorSetsMagicStopped { bits |= R.Status.magicStopped.mask }
        if !raiseError(bits, cause: cause) { enterError() }  // nothing to carry on with
    }

    // MARK: Validation (§4.3 steps 2–3)

    /// Checks magic, length and alignment of the new current descriptor; false when an error stopped the engine.
    private func validateCurrent() -> Bool {
        let d = current!
        let magic = R.Descriptor.magic.extract(from: d.control)
        if magic != R.Descriptor.magicValue {
            if raiseError(R.Status.magicStopped.mask, cause: "descriptor at 0x\(hex(d.address)) has magic 0x\(hex(magic)), not 0xAD4B") {
                return false
            }
        }
        var bits: UInt32 = 0
        var why: [String] = []
        let settings = model.settings
        let dpb = settings.datapathBytes
        if isStream {
            if !isH2C && d.length % 64 != 0 {
                bits |= R.Status.invalidLength.mask
                why.append("C2H-ST length \(d.length) is not a multiple of 64")
            } else if isH2C && settings.h2cStreamRequiresWidthMultiple && d.length % dpb != 0 {
                bits |= R.Status.invalidLength.mask
                why.append("H2C-ST length \(d.length) is not a multiple of the \(dpb)-byte datapath")
            }
        } else {
            let alignment = UInt64(R.Alignments.addressAlignment.extract(from: settings.alignments))
            if alignment > 1 && d.source % alignment != d.destination % alignment {
                bits |= R.Status.alignMismatch.mask
                why.append("source 0x\(hex(d.source)) and destination 0x\(hex(d.destination)) differ modulo the \(alignment)-byte address alignment")
            }
            if R.Control.nonIncrementingMode.isSet(in: control) {
                let card = isH2C ? d.destination : d.source
                let host = isH2C ? d.source : d.destination
                let a = UInt64(max(alignment, 1))
                if card % UInt64(dpb) != 0 || host % a != 0 {
                    bits |= R.Status.alignMismatch.mask
                    why.append("non-incrementing mode needs aligned addresses (card 0x\(hex(card)), host 0x\(hex(host)))")
                }
                let granularity = Int(max(R.Alignments.lengthGranularity.extract(from: settings.alignments), 1))
                if d.length % granularity != 0 {
                    bits |= R.Status.invalidLength.mask
                    why.append("non-incrementing length \(d.length) is not a multiple of the \(granularity)-byte granularity")
                }
            }
        }
        if d.length == 0 {
            model.lint("\(id) descriptor at 0x\(hex(d.address)) has length 0 (undocumented; completes without data)")
        }
        if bits != 0, raiseError(bits, cause: "descriptor at 0x\(hex(d.address)): " + why.joined(separator: "; ")) {
            return false
        }
        return true
    }

    // MARK: Data movement (§4.3 step 4)

    private func move(budget: inout Int) -> MoveResult {
        switch (isH2C, isStream) {
        case (true, false): return moveH2CMemory(budget: &budget)
        case (false, false): return moveC2HMemory(budget: &budget)
        case (true, true): return moveH2CStream(budget: &budget)
        case (false, true): return moveC2HStream(budget: &budget)
        }
    }

    /// After moving `n` bytes: bookkeeping, then pause / budget / continue.
    private func moved(_ n: Int, budget: inout Int) -> MoveResult? {
        currentDone += n
        budget -= n
        if isH2C { model.stats.bytesHostToCard += n } else { model.stats.bytesCardToHost += n }
        perf.addData(bytes: n, datapathBytes: model.settings.datapathBytes)
        if let rate = model.settings.engineBytesPerSecond, n > 0 {
            return .pause(.nanoseconds(Int64(max(1, (Double(n) / rate * 1e9).rounded(.up)))))
        }
        if budget <= 0 { return .budgetUsed }
        return nil
    }

    private var nonIncrementing: Bool { R.Control.nonIncrementingMode.isSet(in: control) }

    private func moveH2CMemory(budget: inout Int) -> MoveResult {
        let d = current!
        while currentDone < d.length {
            let n = min(d.length - currentDone, budget)
            let host = d.source &+ UInt64(currentDone)
            let card = nonIncrementing ? d.destination : d.destination &+ UInt64(currentDone)
            let cardSpan = nonIncrementing ? min(n, model.settings.datapathBytes) : n
            if !model.card.contains(card, cardSpan) {
                if raiseError(1 << UInt32(R.Status.writeErrorShift), cause: "AXI write at card 0x\(hex(card))+\(cardSpan) is beyond the \(model.card.size)-byte card memory (DECERR)") { return .failed }
            } else if model.injectedCardSlaveError(card, cardSpan, write: true) {
                if raiseError(1 << UInt32(R.Status.writeErrorShift + 1), cause: "AXI write at card 0x\(hex(card)): injected SLVERR") { return .failed }
            } else if let e = model.injectedReadError(host, n, descriptor: false) {
                if raiseError(1 << UInt32(R.Status.readErrorShift + e.groupBit), cause: "H2C data read at 0x\(hex(host)): injected \(e)") { return .failed }
            } else {
                do {
                    if nonIncrementing {
                        let scratch = model.scratch(n)
                        try model.context!.dmaRead(at: host, into: UnsafeMutableRawBufferPointer(start: scratch, count: n))
                        let dpb = model.settings.datapathBytes
                        let lastBeat = (n - 1) / dpb * dpb
                        model.card.bytes(at: card, n - lastBeat).copyMemory(
                            from: UnsafeRawBufferPointer(start: scratch + lastBeat, count: n - lastBeat))
                    } else {
                        try model.context!.dmaRead(at: host, into: model.card.bytes(at: card, n))
                    }
                } catch {
                    model.lint("\(id) data read was refused (\(error)); was the source buffer unmapped?")
                    let e: XDMAModelBusError = model.settings.unmappedDataReadError == .completerAbort ? .completerAbort : .unsupportedRequest
                    if raiseError(1 << UInt32(R.Status.readErrorShift + e.groupBit), cause: "H2C data read: \(error)") { return .failed }
                }
            }
            if let r = moved(n, budget: &budget) { return currentDone < d.length ? r : (r.isPause ? r : .done) }
        }
        return .done
    }

    private func moveC2HMemory(budget: inout Int) -> MoveResult {
        let d = current!
        while currentDone < d.length {
            let n = min(d.length - currentDone, budget)
            let host = d.destination &+ UInt64(currentDone)
            let card = nonIncrementing ? d.source : d.source &+ UInt64(currentDone)
            let cardSpan = nonIncrementing ? min(n, model.settings.datapathBytes) : n
            if !model.card.contains(card, cardSpan) {
                if raiseError(1 << UInt32(R.Status.readErrorShift), cause: "AXI read at card 0x\(hex(card))+\(cardSpan) is beyond the \(model.card.size)-byte card memory (DECERR)") { return .failed }
            } else if model.injectedCardSlaveError(card, cardSpan, write: false) {
                if raiseError(1 << UInt32(R.Status.readErrorShift + 1), cause: "AXI read at card 0x\(hex(card)): injected SLVERR") { return .failed }
            } else if nonIncrementing {
                let scratch = model.scratch(n)
                let beat = UnsafeRawPointer(model.card.base + Int(card))
                var filled = 0
                while filled < n {
                    let k = min(cardSpan, n - filled)
                    (scratch + filled).copyMemory(from: beat, byteCount: k)
                    filled += k
                }
                model.hostWrite(at: host, UnsafeRawBufferPointer(start: scratch, count: n), engine: self, what: "C2H data")
            } else {
                model.hostWrite(at: host, UnsafeRawBufferPointer(model.card.bytes(at: card, n)), engine: self, what: "C2H data")
            }
            if let r = moved(n, budget: &budget) { return currentDone < d.length ? r : (r.isPause ? r : .done) }
        }
        return .done
    }

    private func moveH2CStream(budget: inout Int) -> MoveResult {
        let d = current!
        let target = model.h2cStreamTarget(channel: id.channel)
        while currentDone < d.length {
            var n = min(d.length - currentDone, budget)
            if let fifo = target {
                let space = model.settings.streamBufferLimit - fifo.count
                guard space > 0 else { return .blocked }
                n = min(n, space)
            }
            let host = d.source &+ UInt64(currentDone)
            if let e = model.injectedReadError(host, n, descriptor: false) {
                if raiseError(1 << UInt32(R.Status.readErrorShift + e.groupBit), cause: "H2C-ST data read at 0x\(hex(host)): injected \(e)") { return .failed }
            } else {
                let into = target?.reserveTail(n) ?? model.scratch(n)
                do {
                    try model.context!.dmaRead(at: host, into: UnsafeMutableRawBufferPointer(start: into, count: n))
                    target?.commit(n)
                } catch {
                    model.lint("\(id) data read was refused (\(error)); was the source buffer unmapped?")
                    let e: XDMAModelBusError = model.settings.unmappedDataReadError == .completerAbort ? .completerAbort : .unsupportedRequest
                    if raiseError(1 << UInt32(R.Status.readErrorShift + e.groupBit), cause: "H2C-ST data read: \(error)") { return .failed }
                }
            }
            if currentDone + n == d.length { endH2CPacket(d, target) }
            model.streamDataArrived(channel: id.channel, from: self)
            if let r = moved(n, budget: &budget) { return currentDone < d.length ? r : (r.isPause ? r : .done) }
        }
        if d.length == 0 { endH2CPacket(d, target) }
        return .done
    }

    private func endH2CPacket(_ d: Descriptor, _ target: XDMAStreamFIFO?) {
        guard d.endOfPacket else { return }
        guard let fifo = target else {
            model.stats.sinkPacketsDiscarded += 1
            return
        }
        if fifo.totalIn == fifo.lastPacketEnd {
            model.lint("\(id) EOP on descriptor at 0x\(hex(d.address)) ends an empty packet (tlast with no data)")
            return
        }
        fifo.markPacketEnd()
        model.streamDataArrived(channel: id.channel, from: self)
    }

    private func moveC2HStream(budget: inout Int) -> MoveResult {
        let d = current!
        let fifo = model.c2hSource(channel: id.channel)
        while !currentClosed {
            if currentDone == d.length {
                if fifo.bytesToPacketEnd == 0 && d.length > 0 {
                    currentEndOfPacket = true
                    fifo.popPacketEnd()
                }
                currentClosed = true
                break
            }
            let toEnd = fifo.bytesToPacketEnd
            if toEnd == 0 {
                fifo.popPacketEnd()
                if currentDone > 0 {
                    currentEndOfPacket = true
                    currentClosed = true
                    break
                }
                continue
            }
            let n = min(d.length - currentDone, budget, fifo.count, toEnd ?? .max)
            if n == 0 {
                if budget <= 0 { return .budgetUsed }
                armFlushTimer()
                return .blocked
            }
            let host = d.destination &+ UInt64(currentDone)
            model.hostWrite(at: host, UnsafeRawBufferPointer(start: fifo.readable, count: n), engine: self, what: "C2H-ST data")
            fifo.consume(n)
            if toEnd == n {
                fifo.popPacketEnd()
                currentEndOfPacket = true
                currentClosed = true
            } else if currentDone + n == d.length {
                currentClosed = true
            }
            model.streamSpaceFreed(channel: id.channel)
            if let r = moved(n, budget: &budget) { return currentClosed ? (r.isPause ? r : .done) : r }
        }
        return .done
    }

    /// C2H-ST with a partly filled buffer and no data: the write flush timeout (0x3060) closes it.
    private func armFlushTimer() {
        guard currentDone > 0, flushEvent == nil, let ctx = model.context else { return }
        let v = model.writeFlushTimeout
        guard v != 0 else { return }
        let ns = (Double(UInt64(1) << UInt64(v)) / model.settings.axiClockHz * 1e9).rounded(.up)
        let armedAt = currentDone
        flushEvent = ctx.schedule(after: .nanoseconds(Int64(max(ns, 1)))) { [unowned self] in
            self.flushEvent = nil
            guard self.current != nil, !self.currentClosed, self.currentDone == armedAt, self.waiting else { return }
            self.currentClosed = true
            self.kick()
        }
    }

    // MARK: Completion (§4.3 step 5)

    private func complete() {
        let d = current!
        current = nil
        if let e = flushEvent {
            model.context?.cancel(e)
            flushEvent = nil
        }
        completedCount &+= 1
        model.stats.descriptorsCompleted += 1
        let length = isStream && !isH2C ? currentDone : d.length
        model.record(.descriptorCompleted(id, address: d.address, length: length))
        if isStream && !isH2C && !R.Control.streamWritebackDisable.isSet(in: control) {
            model.writeResult(engine: self, slot: d.source, length: currentDone, endOfPacket: currentEndOfPacket)
        }
        var changed = false
        if d.completed {
            if R.Control.ieDescriptorCompleted.isSet(in: control) {
                status |= R.Status.descriptorCompleted.mask
                changed = true
            }
            if R.Control.pollModeWritebackEnable.isSet(in: control)
                && (!model.settings.pollWritebackRequiresCompletedEnable || R.Control.ieDescriptorCompleted.isSet(in: control))
            {
                pollWriteback()
            }
        }
        if d.stop {
            if R.Control.ieDescriptorStopped.isSet(in: control) {
                status |= R.Status.descriptorStopped.mask
                changed = true
            }
            if perf.auto {
                perf.frozen = true
                perf.update(engineRunning: run, now: now)
            }
            queue.removeAll(keepingCapacity: true)
            queueIndex = 0
            model.record(.stopped(id))
            if phase == .running { phase = .stopped }
        }
        if phase == .draining {
            becomeIdle()
        } else if changed {
            model.updateInterrupts()
        }
    }

    /// Writes the poll-mode writeback word (§3.3).
    func pollWriteback() {
        var v = R.PollWriteback.count.mask & completedCount
        if status & errorMask != 0 { v |= R.PollWriteback.error.mask }
        if model.faultState.pollWritebacksToDrop > 0 {
            model.faultState.pollWritebacksToDrop -= 1
            return
        }
        var le = v.littleEndian
        let ok = withUnsafeBytes(of: &le) { model.hostWrite(at: pollWritebackAddress, $0, engine: self, what: "poll-mode writeback") }
        if ok {
            model.stats.pollWritebacks += 1
            model.record(.pollWriteback(id, address: pollWritebackAddress, value: v))
        }
    }

    // MARK: Errors (§4.7)

    /// Records an error. Returns true when the engine stopped or froze, false when the
    /// `ignore` policy let it carry on.
    @discardableResult
    func raiseError(_ bits: UInt32, cause: String) -> Bool {
        model.stats.engineErrors += 1
        var groups: UInt32 = 0
        for g in R.Status.groups where g & bits != 0 { groups |= g }
        let enabled = control & groups != 0
        model.record(.error(id, status: bits, latched: enabled, cause: cause))
        if enabled {
            status |= bits & control & R.Status.latched.mask
            enterError()
            return true
        }
        switch model.settings.errorPolicyWhenDisabled {
        case .hang:
            hung = true
            waiting = false
            return true
        case .stop:
            enterError()
            return true
        case .ignore:
            return false
        }
    }

    /// Stops on an error: busy drops, the descriptors are dropped, the WB word reports it.
    func enterError() {
        if phase == .draining {
            becomeIdle()
            return
        }
        phase = .error
        waiting = false
        dropDescriptors()
        if R.Control.pollModeWritebackEnable.isSet(in: control) && model.settings.writebackOnErrorStop {
            pollWriteback()
        }
        perf.update(engineRunning: run, now: now)
        model.updateInterrupts()
    }
}

extension XDMAEngine.MoveResult {
    var isPause: Bool {
        if case .pause = self { return true }
        return false
    }
}
