import Busmaster

/// A PCIe-side error cause reported in a read-error or descriptor-error group.
public enum XDMAPCIeErrorCause: String, Sendable, Hashable, Codable, CaseIterable {
    /// Unsupported Request completion.
    case unsupportedRequest = "unsupported request (UR)"
    /// Completer Abort completion.
    case completerAbort = "completer abort (CA)"
    /// Parity error.
    case parity = "parity error"
    /// Poisoned completion (EP).
    case poisoned = "poisoned completion (EP)"
    /// Unexpected completion.
    case unexpectedCompletion = "unexpected completion"
}

/// An AXI-side error response.
public enum XDMAAXIErrorCause: String, Sendable, Hashable, Codable, CaseIterable {
    /// DECERR: no slave at the card address.
    case decodeError = "AXI DECERR (no slave at the card address)"
    /// SLVERR: the slave reported an error.
    case slaveError = "AXI SLVERR (slave error)"
}

/// One cause an engine reported in its Status register, decoded per direction (§2.2).
public enum XDMAFault: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Source and destination were misaligned relative to each other.
    case alignMismatch
    /// A descriptor without the 0xAD4B magic was fetched; the engine halted.
    case badDescriptorMagic
    /// A stream length broke the datapath-width or 64-byte rule.
    case invalidLength
    /// H2C: reading host memory over PCIe failed.
    case hostReadError(XDMAPCIeErrorCause)
    /// H2C: writing card memory over AXI failed.
    case cardWriteError(XDMAAXIErrorCause)
    /// C2H: reading card memory over AXI failed.
    case cardReadError(XDMAAXIErrorCause)
    /// Fetching a descriptor from host memory failed.
    case descriptorFetchError(XDMAPCIeErrorCause)
    /// A status bit the sheet marks reserved for this direction.
    case reservedBit(Int)

    /// A readable one-line summary.
    public var description: String {
        switch self {
        case .alignMismatch: "source and destination addresses are misaligned relative to each other (align_mismatch)"
        case .badDescriptorMagic: "a descriptor without the 0xAD4B magic was fetched (magic_stopped)"
        case .invalidLength: "a stream length broke the datapath-width / 64-byte rule (invalid_length)"
        case .hostReadError(let c): "reading host memory failed: \(c.rawValue)"
        case .cardWriteError(let c): "writing card memory failed: \(c.rawValue)"
        case .cardReadError(let c): "reading card memory failed: \(c.rawValue)"
        case .descriptorFetchError(let c): "fetching a descriptor failed: \(c.rawValue)"
        case .reservedBit(let b): "reserved status bit \(b) is set"
        }
    }
}

/// An engine Status value (0x40/0x44) decoded for its direction.
public struct XDMAEngineStatus: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Raw register value.
    public var raw: UInt32
    /// Direction the bits are decoded for.
    public var direction: XDMADirection

    /// Wraps a raw status value.
    public init(raw: UInt32, direction: XDMADirection) {
        self.raw = raw
        self.direction = direction
    }

    private typealias S = XDMARegisters.Status

    /// Descriptors queued or requests outstanding.
    public var busy: Bool { S.busy.isSet(in: raw) }
    /// A descriptor with Stop has completed.
    public var descriptorStopped: Bool { S.descriptorStopped.isSet(in: raw) }
    /// A descriptor with Completed has completed.
    public var descriptorCompleted: Bool { S.descriptorCompleted.isSet(in: raw) }
    /// The engine went idle after Run was cleared.
    public var idleStopped: Bool { S.idleStopped.isSet(in: raw) }
    /// Any error cause, including bits the sheet marks reserved inside the error groups.
    public var hasError: Bool { raw & (XDMARegisters.errorMask(.h2c) | XDMARegisters.errorMask(direction)) != 0 }

    /// The error causes, decoded per direction (§2.2 bit table).
    public var faults: [XDMAFault] {
        var out: [XDMAFault] = []
        if S.alignMismatch.isSet(in: raw) { out.append(.alignMismatch) }
        if S.magicStopped.isSet(in: raw) { out.append(.badDescriptorMagic) }
        if S.invalidLength.isSet(in: raw) { out.append(.invalidLength) }
        let pcie = XDMAPCIeErrorCause.allCases
        let read = S.readError.extract(from: raw)
        switch direction {
        case .h2c:
            for (i, c) in pcie.enumerated() where read & (1 << UInt32(i)) != 0 { out.append(.hostReadError(c)) }
            let write = S.writeError.extract(from: raw)
            if write & 1 != 0 { out.append(.cardWriteError(.decodeError)) }
            if write & 2 != 0 { out.append(.cardWriteError(.slaveError)) }
            for b in 2..<S.writeError.width where write & (1 << UInt32(b)) != 0 { out.append(.reservedBit(S.writeError.shift + b)) }
        case .c2h:
            if read & 1 != 0 { out.append(.cardReadError(.decodeError)) }
            if read & 2 != 0 { out.append(.cardReadError(.slaveError)) }
            for b in 2..<S.readError.width where read & (1 << UInt32(b)) != 0 { out.append(.reservedBit(S.readError.shift + b)) }
            let write = S.writeError.extract(from: raw)
            for b in 0..<S.writeError.width where write & (1 << UInt32(b)) != 0 { out.append(.reservedBit(S.writeError.shift + b)) }
        }
        let desc = S.descriptorError.extract(from: raw)
        for (i, c) in pcie.enumerated() where desc & (1 << UInt32(i)) != 0 { out.append(.descriptorFetchError(c)) }
        return out
    }

    /// A readable one-line summary.
    public var description: String {
        var parts: [String] = []
        if busy { parts.append("busy") }
        if descriptorStopped { parts.append("descriptor_stopped") }
        if descriptorCompleted { parts.append("descriptor_completed") }
        if idleStopped { parts.append("idle_stopped") }
        parts += faults.map(\.description)
        return "0x\(hex32(raw))" + (parts.isEmpty ? "" : " (" + parts.joined(separator: "; ") + ")")
    }
}

/// What an engine had done when a transfer failed, timed out or was cancelled: the status
/// snapshot taken before stopping it, partial progress and whether the engine is usable.
public struct XDMATransferReport: Sendable, Hashable, CustomStringConvertible {
    /// The engine.
    public var engine: XDMAEngineID
    /// Status read before the engine was stopped.
    public var status: XDMAEngineStatus
    /// Control register at the time.
    public var control: UInt32
    /// Descriptors of the failing chain the engine completed (0x48, or the writeback).
    public var completedDescriptors: Int
    /// Descriptors in the failing chain.
    public var chainDescriptors: Int
    /// Bytes of the whole request known to be transferred (earlier chains + completed descriptors;
    /// for C2H stream, the sum of valid result lengths).
    public var bytesTransferred: Int
    /// Bytes requested.
    public var bytesRequested: Int
    /// The poll-mode writeback word at the time (poll mode only).
    public var writeback: UInt32?
    /// Time from start to giving up.
    public var elapsed: Duration
    /// Whether the engine went idle and was re-armed (usable for the next transfer).
    public var engineRecovered: Bool
    /// A one-line explanation of what the snapshot suggests.
    public var diagnosis: String

    /// Creates a report.
    public init(
        engine: XDMAEngineID, status: XDMAEngineStatus, control: UInt32, completedDescriptors: Int, chainDescriptors: Int,
        bytesTransferred: Int, bytesRequested: Int, writeback: UInt32?, elapsed: Duration, engineRecovered: Bool, diagnosis: String
    ) {
        self.engine = engine
        self.status = status
        self.control = control
        self.completedDescriptors = completedDescriptors
        self.chainDescriptors = chainDescriptors
        self.bytesTransferred = bytesTransferred
        self.bytesRequested = bytesRequested
        self.writeback = writeback
        self.elapsed = elapsed
        self.engineRecovered = engineRecovered
        self.diagnosis = diagnosis
    }

    /// The decoded error causes.
    public var faults: [XDMAFault] { status.faults }

    /// A readable one-line summary.
    public var description: String {
        "\(engine): \(diagnosis); status \(status); \(completedDescriptors)/\(chainDescriptors) descriptors, "
            + "\(bytesTransferred)/\(bytesRequested) bytes done after \(elapsed)"
            + (engineRecovered ? "; engine stopped and re-armed" : "; engine NOT recovered")
    }
}

/// Errors of the XDMA driver. Request errors are thrown before anything is programmed;
/// transfer errors carry an ``XDMATransferReport``.
public enum XDMAError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The device's identifier registers do not match an XDMA DMA BAR.
    case notXDMA(String)
    /// No BAR carries the XDMA identifiers.
    case dmaBARNotFound(String)
    /// The device reads all-ones: removed or link down. Every later call fails with this.
    case deviceLost(String)
    /// The requested engine does not exist.
    case noSuchEngine(XDMAEngineID, available: [XDMAEngineID])
    /// The engine cannot do this (wrong direction or interface).
    case wrongEngine(XDMAEngineID, String)
    /// The engine never went idle after a stop; it is unusable until a reset.
    case engineDead(XDMAEngineID, String)
    /// Another transfer kept the engine for longer than this request's timeout.
    case engineBusy(XDMAEngineID, Duration)
    /// A request argument is invalid (size, range, buffer, option).
    case invalidRequest(String)
    /// The card address range is outside what the engine or the card can reach.
    case cardAddressOutOfRange(String)
    /// Host or card addresses break the engine's alignment rules.
    case misaligned(String)
    /// A C2H stream buffer breaks the 64-byte length rule.
    case streamLengthRule(String)
    /// The engine stopped on an error; the report names the decoded causes.
    case hardwareError(XDMATransferReport)
    /// The transfer did not finish in time; the engine was stopped.
    case timeout(XDMATransferReport)
    /// The transfer was cancelled; the engine was stopped.
    case cancelled(XDMATransferReport)
    /// C2H stream result writebacks are missing or inconsistent.
    case streamWritebackInvalid(XDMATransferReport, String)
    /// Interrupts could not be set up, or the operation needs them.
    case interrupts(String)
    /// A user interrupt did not arrive in time.
    case userInterruptTimeout(Int, Duration)
    /// The device was closed.
    case closed

    /// A readable one-line summary.
    public var description: String {
        switch self {
        case .notXDMA(let m): return "not an XDMA device: \(m)"
        case .dmaBARNotFound(let m): return "XDMA DMA BAR not found: \(m)"
        case .deviceLost(let m): return "XDMA device lost (registers read 0xFFFFFFFF; removed or link down): \(m)"
        case .noSuchEngine(let id, let available):
            let list = available.isEmpty ? "none" : available.map(\.description).joined(separator: ", ")
            return "engine \(id) does not exist (engines present: \(list))"
        case .wrongEngine(let id, let m): return "engine \(id) cannot do this: \(m)"
        case .engineDead(let id, let m):
            return "engine \(id) is dead: \(m); reset the function (VFIO reset) or the user logic, then reopen"
        case .engineBusy(let id, let t): return "engine \(id) stayed busy with another transfer for \(t)"
        case .invalidRequest(let m): return "invalid request: \(m)"
        case .cardAddressOutOfRange(let m): return "card address out of range: \(m)"
        case .misaligned(let m): return "misaligned transfer: \(m)"
        case .streamLengthRule(let m): return "C2H stream length rule: \(m)"
        case .hardwareError(let r): return "DMA engine error: \(r.faults.map(\.description).joined(separator: "; ")) — \(r)"
        case .timeout(let r): return "DMA timed out — \(r)"
        case .cancelled(let r): return "DMA cancelled — \(r)"
        case .streamWritebackInvalid(let r, let m): return "C2H stream writeback invalid: \(m) — \(r)"
        case .interrupts(let m): return "XDMA interrupts: \(m)"
        case .userInterruptTimeout(let n, let t): return "user interrupt \(n) did not arrive within \(t)"
        case .closed: return "the XDMA device is closed"
        }
    }

    /// The transfer report, for transfer errors.
    public var report: XDMATransferReport? {
        switch self {
        case .hardwareError(let r), .timeout(let r), .cancelled(let r), .streamWritebackInvalid(let r, _): r
        default: nil
        }
    }
}
