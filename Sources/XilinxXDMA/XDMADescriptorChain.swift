import Busmaster

/// Descriptor memory: a ring of 32-byte slots in one bus-contiguous piece of DMA memory.
///
/// The chain builder writes descriptors straight into it; the engine points the SGDMA
/// first-descriptor registers at a slot. The memory must stay mapped while any chain in
/// it may be fetched.
public struct XDMADescriptorRing: @unchecked Sendable {
    /// CPU address of slot 0.
    public let base: UnsafeMutableRawPointer
    /// Bus address of slot 0 (32-byte aligned).
    public let busAddress: UInt64
    /// Number of slots.
    public let capacity: Int

    /// A ring over raw memory (benchmarks and tests; `busAddress` is what the device would use).
    public init(base: UnsafeMutableRawPointer, busAddress: UInt64, capacity: Int) {
        precondition(capacity > 0, "a descriptor ring needs at least one slot")
        precondition(busAddress % UInt64(XDMADescriptor.alignment) == 0, "descriptor memory must be 32-byte aligned")
        self.base = base
        self.busAddress = busAddress
        self.capacity = capacity
    }

    /// A ring over a contiguous DMA buffer (as from `allocateDMABuffer`), using all of it.
    public init(buffer: DMABuffer) throws(XDMAError) {
        guard buffer.isContiguous else {
            throw .invalidRequest("descriptor memory must be one bus-contiguous segment (got \(buffer.segments.count) segments)")
        }
        guard buffer.busAddress() % UInt64(XDMADescriptor.alignment) == 0 else {
            throw .invalidRequest("descriptor memory at bus \(hex(buffer.busAddress())) is not 32-byte aligned")
        }
        let slots = buffer.count / XDMADescriptor.size
        guard slots > 0 else { throw .invalidRequest("descriptor memory of \(buffer.count) bytes holds no 32-byte descriptor") }
        self.init(base: buffer.bytes.baseAddress!, busAddress: buffer.busAddress(), capacity: slots)
    }

    /// Bus address of `slot`.
    @inlinable @inline(__always)
    public func busAddress(ofSlot slot: Int) -> UInt64 { busAddress &+ UInt64(truncatingIfNeeded: slot &* XDMADescriptor.size) }

    /// CPU address of `slot`.
    @inlinable @inline(__always)
    public func pointer(toSlot slot: Int) -> UnsafeMutableRawPointer { base + slot &* XDMADescriptor.size }

    /// Reads the descriptor in `slot`.
    public func descriptor(at slot: Int) -> XDMADescriptor {
        precondition(slot >= 0 && slot < capacity, "slot \(slot) outside the \(capacity)-slot ring")
        return XDMADescriptor(loadingFrom: pointer(toSlot: slot))
    }

    /// Sum of the length fields of `count` descriptors starting at `slot` (wrapping).
    public func totalLength(fromSlot slot: Int, count: Int) -> Int {
        var total = 0
        var s = slot
        for _ in 0..<max(0, min(count, capacity)) {
            total += Int(XDMADescriptor.Fields.length.extract(
                from: UInt32(littleEndian: pointer(toSlot: s).loadUnaligned(fromByteOffset: XDMADescriptor.Offsets.length, as: UInt32.self))))
            s = s + 1 == capacity ? 0 : s + 1
        }
        return total
    }
}

/// The adjacency rule of §3.2: how many extra descriptors the engine may fetch together.
public enum XDMAAdjacency {
    /// Extra descriptors (0…63) the engine may fetch after the one at bus address `address`,
    /// given that `contiguous` chain descriptors (counting the one at `address`) sit back to back.
    ///
    /// `min(n - 1, 63 - ((B >> 5) & 63))`: a block never crosses a 2 KiB line, so never a 4 KiB page.
    @inlinable @inline(__always)
    public static func extra(address: UInt64, contiguous n: Int) -> Int {
        let room = XDMADescriptor.maxAdjacent &- Int(truncatingIfNeeded: (address &>> 5) & 63)
        return n <= 0 ? 0 : min(n &- 1, room)
    }
}

/// What kind of transfer a chain describes; decides the source/destination of each descriptor.
public enum XDMAChainKind: Sendable, Hashable {
    /// Host → card memory: source host bus address, destination card address.
    case h2cMemoryMapped
    /// Card memory → host: source card address, destination host bus address.
    case c2hMemoryMapped
    /// Host → stream: source host bus address, destination 0; EOP at packet ends.
    case h2cStream
    /// Stream → host: source = result-slot bus address, destination host bus address.
    case c2hStream

    /// The engine direction this chain is for.
    public var direction: XDMADirection { self == .h2cMemoryMapped || self == .h2cStream ? .h2c : .c2h }
    /// The engine kind this chain is for.
    public var engineKind: XDMAEngineKind { self == .h2cMemoryMapped || self == .c2hMemoryMapped ? .memoryMapped : .stream }
}

/// A whole transfer the builder turns into one or more chains ("runs").
///
/// The host memory is given as bus segments; `skip` bytes of the first segment are not part
/// of the transfer, and `length` bytes are transferred in total. No allocation happens while
/// building: the builder walks the segments and writes descriptors through raw pointers.
public struct XDMAChainSource {
    /// Host bus segments in transfer order.
    public var segments: UnsafeBufferPointer<DMASegment>
    /// Bytes of the first segment before the transfer starts.
    public var skip: Int
    /// Total bytes to transfer.
    public var length: Int
    /// Transfer kind.
    public var kind: XDMAChainKind
    /// Card address of the first byte (memory-mapped only).
    public var cardAddress: UInt64
    /// Card address stays fixed (FIFO-style port, Control bit 25).
    public var nonIncrementing: Bool
    /// H2C stream: cumulative packet end offsets within the transfer (strictly increasing, last
    /// = `length`); nil means one packet covering the whole transfer.
    public var packetEnds: UnsafeBufferPointer<Int>?
    /// C2H stream: bus address of result slot 0 (slots parallel the descriptor ring).
    public var resultSlots: UInt64

    /// Describes a transfer.
    public init(
        segments: UnsafeBufferPointer<DMASegment>, skip: Int = 0, length: Int, kind: XDMAChainKind, cardAddress: UInt64 = 0,
        nonIncrementing: Bool = false, packetEnds: UnsafeBufferPointer<Int>? = nil, resultSlots: UInt64 = 0
    ) {
        self.segments = segments
        self.skip = skip
        self.length = length
        self.kind = kind
        self.cardAddress = cardAddress
        self.nonIncrementing = nonIncrementing
        self.packetEnds = packetEnds
        self.resultSlots = resultSlots
    }
}

/// Where the builder stopped within an ``XDMAChainSource``; pass it back to build the next run.
public struct XDMAChainProgress: Sendable, Hashable {
    /// Bytes already put into chains.
    public var bytesDone = 0
    /// Index of the segment the next descriptor starts in.
    public var segmentIndex = 0
    /// Offset within that segment (including the source's `skip` for segment 0).
    public var segmentOffset: Int
    /// Card address of the next byte.
    public var cardAddress: UInt64
    /// Index of the next packet end (H2C stream).
    public var packetIndex = 0

    /// The start of `source`.
    public init(start source: XDMAChainSource) {
        segmentOffset = source.skip
        cardAddress = source.cardAddress
    }

    /// Whether every byte of `source` has been put into chains.
    public func isComplete(_ source: XDMAChainSource) -> Bool { bytesDone >= source.length }
}

/// One chain the builder wrote: what to program into the SGDMA block to run it.
public struct XDMAChain: Sendable, Hashable {
    /// Ring slot of the first descriptor.
    public var firstSlot: Int
    /// Bus address of the first descriptor (SGDMA 0x80/0x84).
    public var firstBusAddress: UInt64
    /// Extra adjacent descriptors at the start (SGDMA 0x88).
    public var startAdjacency: Int
    /// Descriptors in the chain.
    public var descriptorCount: Int
    /// Bytes the chain moves.
    public var byteCount: Int
    /// Offset within the transfer of the chain's first byte.
    public var transferOffset: Int
}

/// Builds XDMA descriptor chains into a ``XDMADescriptorRing``.
///
/// Each chunk is at most ``maxDescriptorLength`` bytes (default 0x0FFFF000, which keeps
/// chunks page-aligned); the last descriptor carries Stop | Completed; adjacency follows
/// ``XDMAAdjacency/extra(address:contiguous:)``, also across a ring wrap. A transfer needing
/// more descriptors than the ring holds is built as several chains.
public struct XDMAChainBuilder: @unchecked Sendable {
    /// Default chunk limit: 0x10000000 − 4 KiB keeps split points page-aligned.
    public static let defaultMaxDescriptorLength = 0x0FFF_F000

    /// The descriptor memory.
    public let ring: XDMADescriptorRing
    /// Largest length one descriptor may carry (≤ 0x0FFFFFFF).
    public var maxDescriptorLength: Int
    /// Also set Completed on every descriptor (progress writebacks; C2H stream packet ends).
    public var completedOnEveryDescriptor = false

    /// Creates a builder over `ring`.
    public init(ring: XDMADescriptorRing, maxDescriptorLength: Int = XDMAChainBuilder.defaultMaxDescriptorLength) {
        precondition(maxDescriptorLength > 0 && maxDescriptorLength <= XDMADescriptor.maxLength, "descriptor length limit must be 1...0x0FFFFFFF")
        self.ring = ring
        self.maxDescriptorLength = maxDescriptorLength
    }

    /// The chunk limit actually used for `kind`: C2H-stream chunks stay multiples of 64 bytes,
    /// non-incrementing chunks multiples of `granularity`.
    public func chunkLimit(for kind: XDMAChainKind, granularity: Int = 1) -> Int {
        var m = maxDescriptorLength
        if kind == .c2hStream { m &= ~63 }
        if granularity > 1 { m -= m % granularity }
        return max(m, 1)
    }

    /// Writes the next chain of `source`, starting at ring slot `startSlot`, and advances
    /// `progress`. Returns nil when nothing is left. At most `capacity` descriptors are used.
    ///
    /// The source must have been validated (lengths, alignment, ranges); this only checks
    /// that the segments hold `length` bytes.
    public func build(_ source: XDMAChainSource, progress: inout XDMAChainProgress, startSlot: Int = 0, granularity: Int = 1) -> XDMAChain? {
        precondition(startSlot >= 0 && startSlot < ring.capacity, "start slot \(startSlot) outside the ring")
        if progress.bytesDone >= source.length { return nil }
        let cap = ring.capacity
        let limit = chunkLimit(for: source.kind, granularity: granularity)
        let segs = source.segments
        let kind = source.kind
        let advanceCard = !source.nonIncrementing
        let extraFlags: UInt32 = completedOnEveryDescriptor ? XDMADescriptorFlags.completed.rawValue : 0
        let eop = XDMADescriptorFlags.endOfPacket.rawValue
        let packetEnds = source.packetEnds
        let singlePacketStream = kind == .h2cStream && packetEnds == nil
        let magic = XDMADescriptor.magic << 16

        var si = progress.segmentIndex
        var segOff = progress.segmentOffset
        var done = progress.bytesDone
        var card = kind.engineKind == .memoryMapped ? progress.cardAddress : 0
        var pi = progress.packetIndex
        let startDone = done
        let total = source.length
        let cardStep: UInt64 = advanceCard && kind.engineKind == .memoryMapped ? 1 : 0
        var slot = startSlot
        var count = 0
        var p = ring.pointer(toSlot: slot)

        if let ends = packetEnds {
            // H2C stream with packet boundaries: chunks also end at every packet end (EOP).
            let segCount = segs.count
            outer: while done < total && si < segCount {
                let seg = segs[si]
                var left = min(seg.length &- segOff, total &- done)
                var host = seg.busAddress &+ UInt64(truncatingIfNeeded: segOff)
                while left > 0 {
                    if count == cap { break outer }
                    var n = left < limit ? left : limit
                    var flags = extraFlags
                    let toEnd = ends[pi] &- done
                    if n >= toEnd {
                        n = toEnd
                        flags |= eop
                        pi &+= 1
                    }
                    let nextSlot = slot &+ 1 == cap ? 0 : slot &+ 1
                    let nextBus = ring.busAddress(ofSlot: nextSlot)
                    let adj = XDMAAdjacency.extra(address: nextBus, contiguous: cap &- nextSlot)
                    XDMADescriptor.store(
                        control: magic | UInt32(truncatingIfNeeded: adj) &<< 8 | flags, length: UInt32(truncatingIfNeeded: n),
                        source: host, destination: 0, next: nextBus, to: p)
                    host &+= UInt64(truncatingIfNeeded: n)
                    done &+= n
                    segOff &+= n
                    left &-= n
                    count &+= 1
                    p = nextSlot == 0 ? ring.base : p + XDMADescriptor.size
                    slot = nextSlot
                }
                if done < total {
                    si &+= 1
                    segOff = 0
                }
            }
        } else if let base = segs.baseAddress {
            // Everything else: one tight loop per kind, specialised at compile time.
            let control = magic | extraFlags
            let inc = cardStep != 0
            switch kind {
            case .h2cMemoryMapped where inc:
                Self.fill(H2CMemoryMapped.self, base, segs.count, &si, &segOff, total, &done, &card, &slot, &count, limit, ring, 0, control)
            case .h2cMemoryMapped:
                Self.fill(H2CFixedCard.self, base, segs.count, &si, &segOff, total, &done, &card, &slot, &count, limit, ring, 0, control)
            case .c2hMemoryMapped where inc:
                Self.fill(C2HMemoryMapped.self, base, segs.count, &si, &segOff, total, &done, &card, &slot, &count, limit, ring, 0, control)
            case .c2hMemoryMapped:
                Self.fill(C2HFixedCard.self, base, segs.count, &si, &segOff, total, &done, &card, &slot, &count, limit, ring, 0, control)
            case .h2cStream:
                Self.fill(H2CStream.self, base, segs.count, &si, &segOff, total, &done, &card, &slot, &count, limit, ring, 0, control)
            case .c2hStream:
                Self.fill(
                    C2HStream.self, base, segs.count, &si, &segOff, total, &done, &card, &slot, &count, limit, ring, source.resultSlots,
                    control)
            }
        }
        precondition(done == total || count == cap, "DMA segments hold fewer bytes than the transfer length")
        if kind.engineKind != .memoryMapped { card = progress.cardAddress }

        // Tail fix-up: the adjacency of the last ≤ 64 descriptors depends on the true count,
        // and the last descriptor ends the chain.
        let fixFrom = max(0, count - (XDMADescriptor.maxAdjacent + 2))
        var s = (startSlot + fixFrom) % cap
        for i in fixFrom..<count {
            let q = ring.pointer(toSlot: s)
            let nextSlot = s + 1 == cap ? 0 : s + 1
            var control = UInt32(littleEndian: q.loadUnaligned(as: UInt32.self))
            if i == count - 1 {
                control = XDMADescriptor.Fields.nextAdjacent.insert(0, into: control)
                control |= XDMADescriptorFlags.stop.rawValue | XDMADescriptorFlags.completed.rawValue
                if singlePacketStream && done == total { control |= eop }
                q.storeBytes(of: UInt64(0), toByteOffset: XDMADescriptor.Offsets.next, as: UInt64.self)
            } else {
                let run = min(count - (i + 1), cap - nextSlot)
                let adj = XDMAAdjacency.extra(address: ring.busAddress(ofSlot: nextSlot), contiguous: run)
                control = XDMADescriptor.Fields.nextAdjacent.insert(UInt32(adj), into: control)
            }
            q.storeBytes(of: control.littleEndian, as: UInt32.self)
            s = nextSlot
        }

        progress.bytesDone = done
        progress.segmentIndex = si
        progress.segmentOffset = segOff
        progress.cardAddress = card
        progress.packetIndex = pi
        let first = ring.busAddress(ofSlot: startSlot)
        return XDMAChain(
            firstSlot: startSlot, firstBusAddress: first,
            startAdjacency: XDMAAdjacency.extra(address: first, contiguous: min(count, cap - startSlot)),
            descriptorCount: count, byteCount: done - startDone, transferOffset: startDone)
    }

    /// The hot loop: one descriptor per chunk of each segment, written with four 64-bit stores
    /// straight into the ring, one linear stretch of ring slots at a time (the wrap to slot 0
    /// is handled between stretches). `K` fixes every per-kind choice at compile time so the
    /// loop keeps its state in registers.
    @inline(__always)
    static func fill<K: XDMAChainKindTraits>(
        _: K.Type, _ segs: UnsafePointer<DMASegment>, _ segCount: Int, _ si: inout Int, _ segOff: inout Int, _ total: Int,
        _ done: inout Int, _ card: inout UInt64, _ slot: inout Int, _ count: inout Int, _ limit: Int, _ ring: XDMADescriptorRing,
        _ resultBase: UInt64, _ control: UInt32
    ) {
        let cap = ring.capacity
        var sp = segs + si  // next segment to load
        let segEnd = segs + segCount
        var off = segOff  // offset into the next segment (first segment only)
        var rem = total &- done  // bytes not yet taken from the segments
        var k = card
        var s = slot
        var budget = cap &- count  // descriptors this chain may still use
        var left = 0  // bytes of the current segment still to describe
        var host: UInt64 = 0
        var segBase: UInt64 = 0
        while budget > 0 {
            // One stretch: ring slots s..<cap, at most `budget` of them, without wrapping.
            let first = s
            var q = ring.pointer(toSlot: s)
            var nextBus = ring.busAddress(ofSlot: s) &+ UInt64(XDMADescriptor.size)
            var m = min(cap &- s, budget)
            let m0 = m
            let slotEnd = first &+ m0  // the current slot is slotEnd - m
            while m > 0 {
                // Fast path for scattered pages: while every next segment fits one descriptor, emit
                // one descriptor per segment without the general loop's bookkeeping.
                if left == 0 && off == 0 {
                    while m > 0 && sp != segEnd {
                        let seg = sp.pointee
                        let n = seg.length
                        if n <= 0 || n > limit || n > rem { break }
                        let adj = XDMADescriptor.maxAdjacent &- Int(truncatingIfNeeded: (nextBus &>> 5) & 63)
                        let other = K.usesResultSlots ? resultBase &+ UInt64(truncatingIfNeeded: (slotEnd &- m) &<< 5) : k
                        XDMADescriptor.store(
                            control: control | UInt32(truncatingIfNeeded: adj) &<< 8, length: UInt32(truncatingIfNeeded: n),
                            source: K.hostIsSource ? seg.busAddress : other, destination: K.hostIsSource ? other : seg.busAddress,
                            next: nextBus, to: q)
                        if K.advancesCard { k &+= UInt64(truncatingIfNeeded: n) }
                        sp += 1
                        rem &-= n
                        m &-= 1
                        q += XDMADescriptor.size
                        nextBus &+= UInt64(XDMADescriptor.size)
                    }
                }
                if m == 0 { break }
                if left == 0 {
                    if rem == 0 || sp == segEnd { break }
                    let seg = sp.pointee
                    sp += 1
                    left = min(seg.length &- off, rem)
                    segBase = seg.busAddress
                    host = seg.busAddress &+ UInt64(truncatingIfNeeded: off)
                    off = 0
                    if left <= 0 {
                        left = 0
                        continue
                    }
                    rem &-= left
                }
                repeat {
                    let n = left < limit ? left : limit
                    // Adjacency within the 2 KiB line; slots near the ring's end and the chain's
                    // tail are corrected once the stretch is done.
                    let adj = XDMADescriptor.maxAdjacent &- Int(truncatingIfNeeded: (nextBus &>> 5) & 63)
                    let other = K.usesResultSlots ? resultBase &+ UInt64(truncatingIfNeeded: (slotEnd &- m) &<< 5) : k
                    XDMADescriptor.store(
                        control: control | UInt32(truncatingIfNeeded: adj) &<< 8, length: UInt32(truncatingIfNeeded: n),
                        source: K.hostIsSource ? host : other, destination: K.hostIsSource ? other : host, next: nextBus, to: q)
                    let step = UInt64(truncatingIfNeeded: n)
                    host &+= step
                    if K.advancesCard { k &+= step }
                    left &-= n
                    m &-= 1
                    q += XDMADescriptor.size
                    nextBus &+= UInt64(XDMADescriptor.size)
                } while left > 0 && m > 0
            }
            let used = m0 &- m
            if used == 0 { break }
            budget &-= used
            let end = first &+ used
            if end == cap {
                // The stretch reached the ring's end: no block may run past it.
                for x in max(first, cap &- XDMADescriptor.maxAdjacent &- 2)..<(cap &- 1) {
                    let d = ring.pointer(toSlot: x)
                    let adj = XDMAAdjacency.extra(address: ring.busAddress(ofSlot: x &+ 1), contiguous: cap &- x &- 1)
                    let c = UInt32(littleEndian: d.loadUnaligned(as: UInt32.self))
                    d.storeBytes(of: XDMADescriptor.Fields.nextAdjacent.insert(UInt32(adj), into: c).littleEndian, as: UInt32.self)
                }
                if budget > 0 && (left > 0 || (rem > 0 && sp != segEnd)) {
                    // The chain continues at slot 0: point the ring's last descriptor there.
                    let last = ring.pointer(toSlot: cap &- 1)
                    last.storeBytes(of: ring.busAddress.littleEndian, toByteOffset: XDMADescriptor.Offsets.next, as: UInt64.self)
                    let c = UInt32(littleEndian: last.loadUnaligned(as: UInt32.self))
                    let adj = XDMAAdjacency.extra(address: ring.busAddress, contiguous: cap)
                    last.storeBytes(of: XDMADescriptor.Fields.nextAdjacent.insert(UInt32(adj), into: c).littleEndian, as: UInt32.self)
                }
            }
            s = end == cap ? 0 : end
            if left == 0 && (rem == 0 || sp == segEnd) { break }
        }
        if left > 0 {
            // Stopped inside a segment (the ring is full): resume there next time.
            si = segs.distance(to: sp) &- 1
            segOff = Int(truncatingIfNeeded: host &- segBase)
        } else {
            si = segs.distance(to: sp)
            segOff = off
        }
        done = total &- rem &- left
        count = cap &- budget
        slot = s
        card = k
    }

    /// Builds a whole transfer that must fit one chain (convenience for tests and tools).
    /// Throws when the ring is too small.
    public func buildSingleChain(
        segments: [DMASegment], kind: XDMAChainKind, cardAddress: UInt64 = 0, nonIncrementing: Bool = false,
        packetLengths: [Int]? = nil, resultSlots: UInt64 = 0, startSlot: Int = 0
    ) throws(XDMAError) -> XDMAChain {
        let length = segments.reduce(0) { $0 + $1.length }
        guard length > 0 else { throw .invalidRequest("a chain needs at least one byte") }
        var ends: [Int]? = nil
        if let pl = packetLengths {
            var acc = 0
            ends = pl.map { acc += $0; return acc }
            guard acc == length, pl.allSatisfy({ $0 > 0 }) else {
                throw .invalidRequest("packet lengths \(pl) must be positive and sum to the transfer length \(length)")
            }
        }
        let result: XDMAChain? = segments.withUnsafeBufferPointer { segs in
            func run(_ endsPtr: UnsafeBufferPointer<Int>?) -> XDMAChain? {
                let source = XDMAChainSource(
                    segments: segs, length: length, kind: kind, cardAddress: cardAddress, nonIncrementing: nonIncrementing,
                    packetEnds: endsPtr, resultSlots: resultSlots)
                var progress = XDMAChainProgress(start: source)
                let chain = build(source, progress: &progress, startSlot: startSlot)
                return progress.isComplete(source) ? chain : nil
            }
            if let e = ends { return e.withUnsafeBufferPointer { run($0) } }
            return run(nil)
        }
        guard let chain = result else {
            throw .invalidRequest("the transfer needs more descriptors than the ring's \(ring.capacity) slots")
        }
        return chain
    }
}

/// Compile-time facts about a chain kind, so ``XDMAChainBuilder/fill(_:_:_:_:_:_:_:_:_:_:_:_:_:_:)``
/// specialises into one branch-free loop per kind.
protocol XDMAChainKindTraits {
    /// The host address is the descriptor's source (H2C) rather than its destination (C2H).
    static var hostIsSource: Bool { get }
    /// The non-host side is the descriptor's result slot (C2H stream) rather than the card address.
    static var usesResultSlots: Bool { get }
    /// The card address advances with the data (memory-mapped, incrementing).
    static var advancesCard: Bool { get }
}

enum H2CMemoryMapped: XDMAChainKindTraits {
    static var hostIsSource: Bool { true }
    static var usesResultSlots: Bool { false }
    static var advancesCard: Bool { true }
}

enum H2CFixedCard: XDMAChainKindTraits {
    static var hostIsSource: Bool { true }
    static var usesResultSlots: Bool { false }
    static var advancesCard: Bool { false }
}

enum C2HMemoryMapped: XDMAChainKindTraits {
    static var hostIsSource: Bool { false }
    static var usesResultSlots: Bool { false }
    static var advancesCard: Bool { true }
}

enum C2HFixedCard: XDMAChainKindTraits {
    static var hostIsSource: Bool { false }
    static var usesResultSlots: Bool { false }
    static var advancesCard: Bool { false }
}

enum H2CStream: XDMAChainKindTraits {
    static var hostIsSource: Bool { true }
    static var usesResultSlots: Bool { false }
    static var advancesCard: Bool { false }
}

enum C2HStream: XDMAChainKindTraits {
    static var hostIsSource: Bool { false }
    static var usesResultSlots: Bool { true }
    static var advancesCard: Bool { false }
}
