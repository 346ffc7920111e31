import Busmaster

/// A request that passed validation: everything the engine needs to build its chains.
struct XDMAValidatedRequest: @unchecked Sendable {
    var kind: XDMAChainKind
    var buffer: DMABuffer
    var range: Range<Int>
    var cardAddress: UInt64
    var nonIncrementing: Bool
    /// H2C stream: cumulative packet ends within the transfer.
    var packetEnds: [Int]?
    /// Index of the buffer segment holding `range.lowerBound`.
    var firstSegment: Int
    /// Bytes of that segment before the transfer starts.
    var skip: Int
    /// Length granularity for chunking (non-incrementing mode).
    var granularity: Int
}

/// Checks a transfer request against the engine's rules before anything is programmed (§5.2).
enum XDMATransferValidation {
    /// Index of the segment containing buffer offset `offset`.
    static func segmentIndex(of offset: Int, in segments: [DMASegment]) -> Int {
        var lo = 0
        var hi = segments.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if segments[mid].bufferOffset <= offset { lo = mid } else { hi = mid - 1 }
        }
        return lo
    }

    /// Validates a request for `engine`. `cardMemorySize` is the caller-stated card memory size.
    static func validate(
        engine: XDMAEngineInfo, kind: XDMAChainKind, buffer: DMABuffer, range requested: Range<Int>?, cardAddress: UInt64,
        nonIncrementing: Bool, packetLengths: [Int]?, cardMemorySize: UInt64?, datapathBytes: Int = 1
    ) throws(XDMAError) -> XDMAValidatedRequest {
        let id = engine.id
        // Engine capability.
        if kind.direction != id.direction {
            throw .wrongEngine(id, "it is a \(id.direction) engine; \(kind.direction == .h2c ? "writes/sends" : "reads/receives") need a \(kind.direction) engine")
        }
        if kind.engineKind != engine.kind {
            let what = engine.kind == .stream ? "use send/receive (AXI4-Stream)" : "use write/read with a card address (AXI4-MM)"
            throw .wrongEngine(id, "it is an \(engine.kind == .stream ? "AXI4-Stream" : "AXI4 memory-mapped") engine; \(what)")
        }
        // Buffer and range.
        if buffer.isFreed { throw .invalidRequest("the DMA buffer \(buffer.id) has been freed") }
        let range = requested ?? 0..<buffer.count
        guard range.lowerBound >= 0, range.upperBound <= buffer.count else {
            throw .invalidRequest("range \(range) is outside the \(buffer.count)-byte DMA buffer (allowed 0..<\(buffer.count))")
        }
        guard !range.isEmpty else { throw .invalidRequest("a transfer needs at least 1 byte (got an empty range \(range))") }
        if id.direction == .h2c && !buffer.direction.deviceReads {
            throw .invalidRequest("the DMA buffer is mapped \(buffer.direction.rawValue); an H2C transfer needs to-device or bidirectional")
        }
        if id.direction == .c2h && !buffer.direction.deviceWrites {
            throw .invalidRequest("the DMA buffer is mapped \(buffer.direction.rawValue); a C2H transfer needs from-device or bidirectional")
        }
        let length = range.count
        let a = engine.alignments
        if nonIncrementing && engine.kind == .stream {
            throw .invalidRequest("non-incrementing card addresses apply to memory-mapped engines only")
        }

        // Card address range (memory-mapped).
        if engine.kind == .memoryMapped {
            let span = UInt64(nonIncrementing ? max(a.lengthGranularity, 1) : length)
            let (end, overflow) = cardAddress.addingReportingOverflow(span)
            if overflow {
                throw .cardAddressOutOfRange("card address \(hex(cardAddress)) + \(length) bytes overflows 64 bits")
            }
            if let limit = a.cardAddressLimit, end > limit {
                throw .cardAddressOutOfRange(
                    "card range \(hex(cardAddress))..<\(hex(end)) exceeds the engine's \(a.addressBits) address bits "
                        + "(allowed 0x0..<\(hex(limit)))")
            }
            if let size = cardMemorySize, end > size {
                throw .cardAddressOutOfRange(
                    "card range \(hex(cardAddress))..<\(hex(end)) exceeds the \(size)-byte card memory "
                        + "(allowed addresses 0x0..<\(hex(size)); at most \(size > cardAddress ? size - cardAddress : 0) bytes from \(hex(cardAddress)))")
            }
        } else if cardAddress != 0 {
            throw .invalidRequest("stream engines have no card address (got \(hex(cardAddress)))")
        }

        // Packet lengths (H2C stream).
        var packetEnds: [Int]? = nil
        if let pl = packetLengths {
            guard kind == .h2cStream else { throw .invalidRequest("packet lengths apply to H2C stream sends only") }
            guard !pl.isEmpty, pl.allSatisfy({ $0 > 0 }) else {
                throw .invalidRequest("packet lengths must be non-empty and each > 0 (got \(pl.prefix(8))…)")
            }
            var acc = 0
            var ends: [Int] = []
            ends.reserveCapacity(pl.count)
            for p in pl {
                acc += p
                ends.append(acc)
            }
            guard acc == length else {
                throw .invalidRequest("packet lengths sum to \(acc) bytes but the transfer is \(length) bytes")
            }
            packetEnds = ends
        }

        // Alignment, granularity and the C2H stream 64-byte rule, per host piece.
        let segments = buffer.segments
        let first = segmentIndex(of: range.lowerBound, in: segments)
        let skip = range.lowerBound - segments[first].bufferOffset
        let alignment = UInt64(a.addressAlignment)
        let granularity = a.lengthGranularity
        let checkPieces = alignment > 1 || kind == .c2hStream || (nonIncrementing && granularity > 1)
        if kind == .c2hStream && length % 64 != 0 {
            throw .streamLengthRule("a C2H stream buffer must be a multiple of 64 bytes (got \(length); use \(length / 64 * 64) or \((length / 64 + 1) * 64))")
        }
        if nonIncrementing && length % granularity != 0 {
            throw .misaligned("in non-incrementing mode the length must be a multiple of the \(granularity)-byte granularity (got \(length))")
        }
        let cardAlignment = UInt64(max(Int(alignment), datapathBytes, 1))
        if nonIncrementing && cardAddress % cardAlignment != 0 {
            throw .misaligned(
                "in non-incrementing mode the card address must be aligned to \(cardAlignment) bytes (the datapath width"
                    + "\(alignment > 1 ? " and the address alignment" : "")); got \(hex(cardAddress))")
        }
        if checkPieces {
            var offset = 0
            var i = first
            var inSeg = skip
            while offset < length {
                let s = segments[i]
                let n = min(s.length - inSeg, length - offset)
                if n > 0 {
                    let bus = s.busAddress + UInt64(inSeg)
                    let where_ = "buffer offset \(range.lowerBound + offset) (bus \(hex(bus)))"
                    if kind == .c2hStream && n % 64 != 0 {
                        throw .streamLengthRule(
                            "every bus-contiguous piece of a C2H stream buffer must be a multiple of 64 bytes; the piece at \(where_) is \(n) bytes "
                                + "(use a page-aligned or contiguous buffer)")
                    }
                    if alignment > 1 {
                        if engine.kind == .memoryMapped && !nonIncrementing {
                            let card = cardAddress &+ UInt64(offset)
                            if (bus &- card) % alignment != 0 {
                                throw .misaligned(
                                    "host \(where_) and card address \(hex(card)) must be congruent modulo \(alignment) bytes "
                                        + "(host % \(alignment) = \(bus % alignment), card % \(alignment) = \(card % alignment))")
                            }
                        } else if bus % alignment != 0 {
                            throw .misaligned("host \(where_) must be aligned to \(alignment) bytes")
                        }
                    }
                    if nonIncrementing && granularity > 1 && n % granularity != 0 {
                        throw .misaligned("in non-incrementing mode every piece must be a multiple of \(granularity) bytes; the piece at \(where_) is \(n)")
                    }
                }
                offset += max(n, 0)
                i += 1
                inSeg = 0
            }
        }
        return XDMAValidatedRequest(
            kind: kind, buffer: buffer, range: range, cardAddress: cardAddress, nonIncrementing: nonIncrementing, packetEnds: packetEnds,
            firstSegment: first, skip: skip, granularity: nonIncrementing ? granularity : 1)
    }
}
