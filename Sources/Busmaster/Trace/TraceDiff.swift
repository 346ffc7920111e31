/// Options of a trace comparison.
public struct TraceDiffOptions: Sendable, Hashable {
    /// Equal lines shown before and after each difference.
    public var contextLines: Int
    /// Whether `MARK` lines are left out of the comparison.
    public var ignoreMarks: Bool
    /// The most differing lines (removed + added) worked out exactly; beyond that the
    /// comparison reports the first difference only (``TraceComparison/isTruncated``).
    public var maxDifferences: Int

    /// Creates options.
    public init(contextLines: Int = 2, ignoreMarks: Bool = false, maxDifferences: Int = 1000) {
        self.contextLines = contextLines
        self.ignoreMarks = ignoreMarks
        self.maxDifferences = maxDifferences
    }
}

/// One line of a difference listing.
public struct TraceDiffLine: Sendable, Hashable {
    /// Whether the line is in both traces, only the first, or only the second.
    public enum Kind: String, Sendable, Hashable {
        /// In both (context).
        case common
        /// Only in the first trace.
        case removed
        /// Only in the second trace.
        case added
    }

    /// Which side(s) the line is on.
    public var kind: Kind
    /// Its 1-based line in the first trace (nil for ``Kind/added``).
    public var lineA: Int?
    /// Its 1-based line in the second trace (nil for ``Kind/removed``).
    public var lineB: Int?
    /// The event as a trace line (folded reads without their repeat count).
    public var text: String

    /// Creates a line.
    public init(kind: Kind, lineA: Int?, lineB: Int?, text: String) {
        self.kind = kind
        self.lineA = lineA
        self.lineB = lineB
        self.text = text
    }
}

/// A group of nearby differences with the equal lines around them.
public struct TraceDiffHunk: Sendable, Hashable {
    /// The lines in order: context, removed and added lines.
    public var lines: [TraceDiffLine]
    /// The lines only in the first trace.
    public var removed: [TraceDiffLine] { lines.filter { $0.kind == .removed } }
    /// The lines only in the second trace.
    public var added: [TraceDiffLine] { lines.filter { $0.kind == .added } }
}

/// The result of comparing two traces.
public struct TraceComparison: Sendable {
    /// Name of the first trace.
    public var fileA: String
    /// Name of the second trace.
    public var fileB: String
    /// Differences in the device identity (vendor:device, subsystem), reported apart from
    /// the events. Addresses, class, revision and BARs are not compared.
    public var deviceDifferences: [String]
    /// Differences in the events.
    public var hunks: [TraceDiffHunk]
    /// True when the traces differed in more places than ``TraceDiffOptions/maxDifferences``;
    /// ``hunks`` then shows the first difference only.
    public var isTruncated: Bool

    /// Whether the events are the same (ignoring comments and poll repeat counts).
    public var eventsEqual: Bool { hunks.isEmpty && !isTruncated }
    /// Whether the traces are the same: events and device identity.
    public var isEqual: Bool { eventsEqual && deviceDifferences.isEmpty }

    /// A readable listing: device differences, then each hunk with line numbers in both files
    /// (`  a|b  text` for common lines, `- a|   text` and `+  |b  text` for differences).
    public var rendered: String {
        var out = "--- \(fileA)\n+++ \(fileB)\n"
        for d in deviceDifferences { out += "device: \(d)\n" }
        if eventsEqual {
            out += "events are equal (ignoring comments and poll repeat counts)\n"
            return out
        }
        let width = hunks.flatMap(\.lines).map { max(String($0.lineA ?? 0).count, String($0.lineB ?? 0).count) }.max() ?? 1
        func col(_ n: Int?) -> String {
            let s = n.map(String.init) ?? ""
            return String(repeating: " ", count: max(0, width - s.count)) + s
        }
        for h in hunks {
            let firstA = h.lines.compactMap(\.lineA).first.map(String.init) ?? "-"
            let firstB = h.lines.compactMap(\.lineB).first.map(String.init) ?? "-"
            out += "@@ \(fileA):\(firstA) \(fileB):\(firstB) @@\n"
            for l in h.lines {
                let mark = l.kind == .common ? " " : l.kind == .removed ? "-" : "+"
                out += "\(mark) \(col(l.lineA))|\(col(l.lineB))  \(l.text)\n"
            }
        }
        if isTruncated { out += "… more differences follow (over the comparison limit; only the first is shown)\n" }
        return out
    }
}

/// Compares two traces event by event.
///
/// Ignored: comments, the repeat counts of folded reads (consecutive identical reads count
/// as one, as do consecutive timeouts on one vector), `DATA` bytes (their CRC is compared),
/// recorded bus segments, and the device's address, class, revision and BARs. Device IDs are
/// compared and reported apart from the events.
public enum TraceDiff {
    private struct Item {
        var event: TraceEvent
        var line: Int
    }

    /// Compares `a` with `b`.
    public static func compare(_ a: Trace, _ b: Trace, options: TraceDiffOptions = .init()) -> TraceComparison {
        let ia = normalized(a, options)
        let ib = normalized(b, options)
        var ids: [TraceEvent: Int] = [:]
        func key(_ e: TraceEvent) -> Int {
            if let k = ids[e] { return k }
            let k = ids.count
            ids[e] = k
            return k
        }
        let ka = ia.map { key($0.event) }
        let kb = ib.map { key($0.event) }
        var result = TraceComparison(
            fileA: a.fileName, fileB: b.fileName, deviceDifferences: deviceDifferences(a.device, b.device), hunks: [],
            isTruncated: false)
        if let ops = EditScript.compute(ka, kb, maxEdits: max(1, options.maxDifferences)) {
            result.hunks = hunks(ops, ia, ib, context: max(0, options.contextLines))
        } else {
            result.isTruncated = true
            result.hunks = [firstDifference(ka, kb, ia, ib, context: max(0, options.contextLines))]
        }
        return result
    }

    /// Events that take part in the comparison, with poll runs merged and noise removed.
    private static func normalized(_ t: Trace, _ options: TraceDiffOptions) -> [Item] {
        let lines = t.eventLineNumbers()
        var out: [Item] = []
        for (i, e) in t.events.enumerated() {
            var ev: TraceEvent
            switch e {
            case .comment: continue
            case .mark where options.ignoreMarks: continue
            case .dmaSync(let p, let b, let o, let l, let c, _): ev = .dmaSync(point: p, buffer: b, offset: o, length: l, crc: c, data: nil)
            case .dmaAllocate(let b, let s, let d, let c, _): ev = .dmaAllocate(buffer: b, size: s, direction: d, contiguous: c, bus: nil)
            case .dmaLock(let b, let s, let d, _): ev = .dmaLock(buffer: b, size: s, direction: d, bus: nil)
            default: ev = e.withRepeatCount(1)
            }
            if let last = out.last, last.event.isSamePoll(as: ev) { continue }
            // A read of the register just read, with a new value, ends a poll: the earlier
            // values are the poll's waiting phase, which one run may not see at all (the
            // device was already done). Keep only the value the poll exited on.
            if let last = out.last, case .read(let b1, let o1, let w1, _, _) = last.event,
                case .read(let b2, let o2, let w2, _, _) = ev, b1 == b2, o1 == o2, w1 == w2
            {
                out[out.count - 1] = Item(event: ev, line: lines[i])
                continue
            }
            out.append(Item(event: ev, line: lines[i]))
        }
        return out
    }

    private static func deviceDifferences(_ a: TraceDevice, _ b: TraceDevice) -> [String] {
        var out: [String] = []
        if a.idString != b.idString { out.append("vendor:device \(a.idString) vs \(b.idString)") }
        let sa = a.subsystemVendorID.map { hex($0, 4) + ":" + hex(a.subsystemID ?? 0, 4) }
        let sb = b.subsystemVendorID.map { hex($0, 4) + ":" + hex(b.subsystemID ?? 0, 4) }
        if let sa, let sb, sa != sb { out.append("subsystem \(sa) vs \(sb)") }
        return out
    }

    private static func text(_ e: TraceEvent) -> String { TraceFormat.line(of: e) }

    private static func hunks(_ ops: [EditScript.Op], _ a: [Item], _ b: [Item], context: Int) -> [TraceDiffHunk] {
        func line(_ op: EditScript.Op) -> TraceDiffLine {
            switch op {
            case .equal(let i, let j): return TraceDiffLine(kind: .common, lineA: a[i].line, lineB: b[j].line, text: text(a[i].event))
            case .delete(let i): return TraceDiffLine(kind: .removed, lineA: a[i].line, lineB: nil, text: text(a[i].event))
            case .insert(let j): return TraceDiffLine(kind: .added, lineA: nil, lineB: b[j].line, text: text(b[j].event))
            }
        }
        let changed = ops.indices.filter {
            if case .equal = ops[$0] { return false }
            return true
        }
        guard !changed.isEmpty else { return [] }
        // Group changes whose context windows touch.
        var out: [TraceDiffHunk] = []
        var start = max(0, changed[0] - context)
        var end = min(ops.count, changed[0] + 1 + context)
        for c in changed.dropFirst() {
            if c - context <= end {
                end = min(ops.count, c + 1 + context)
            } else {
                out.append(TraceDiffHunk(lines: ops[start..<end].map(line)))
                start = max(0, c - context)
                end = min(ops.count, c + 1 + context)
            }
        }
        out.append(TraceDiffHunk(lines: ops[start..<end].map(line)))
        return out
    }

    /// For inputs too different to diff within the limit: the first differing position,
    /// with a few lines of each side.
    private static func firstDifference(_ ka: [Int], _ kb: [Int], _ a: [Item], _ b: [Item], context: Int) -> TraceDiffHunk {
        var p = 0
        while p < ka.count && p < kb.count && ka[p] == kb[p] { p += 1 }
        var lines: [TraceDiffLine] = []
        for i in max(0, p - context)..<p {
            lines.append(TraceDiffLine(kind: .common, lineA: a[i].line, lineB: b[i].line, text: text(a[i].event)))
        }
        let shown = max(1, context + 1)
        for i in p..<min(a.count, p + shown) {
            lines.append(TraceDiffLine(kind: .removed, lineA: a[i].line, lineB: nil, text: text(a[i].event)))
        }
        for j in p..<min(b.count, p + shown) {
            lines.append(TraceDiffLine(kind: .added, lineA: nil, lineB: b[j].line, text: text(b[j].event)))
        }
        return TraceDiffHunk(lines: lines)
    }
}
