/// Where and how a driver's accesses left the trace it was replayed against.
public struct ReplayDivergence: Sendable, Equatable, CustomStringConvertible {
    /// The trace file (or `<memory>`).
    public var file: String
    /// The 1-based line of the expected event (one past the last line at the end of the trace).
    public var line: Int
    /// The expected trace line, or nil when the trace had ended.
    public var expected: String?
    /// What the driver did, written like a trace line.
    public var actual: String
    /// An explanation, when there is more to say (e.g. a CRC mismatch means different data).
    public var note: String?
    /// Up to three preceding lines of the trace, each as `line: text`.
    public var context: [String]

    /// Creates a divergence report.
    public init(file: String, line: Int, expected: String?, actual: String, note: String? = nil, context: [String] = []) {
        self.file = file
        self.line = line
        self.expected = expected
        self.actual = actual
        self.note = note
        self.context = context
    }

    /// The report: file:line, expected and actual access, note and context.
    public var description: String {
        var s: String
        if let expected {
            s = "\(file):\(line): expected `\(expected)`, but the driver did `\(actual)`"
        } else {
            s = "\(file):\(line): the trace has ended, but the driver did `\(actual)`"
        }
        if let note { s += " (\(note))" }
        if !context.isEmpty {
            s += "\n  context:"
            for c in context { s += "\n    " + c }
            if let expected { s += "\n  > \(line): \(expected)" }
        }
        return s
    }

    /// The divergence as an error.
    public var error: BusmasterError { .replayDivergence(description) }
}
