import ArgumentParser
import Busmaster
import DiagSupport
import Foundation

extension PCIDiag {
    /// `pci-diag trace …`.
    struct TraceTool: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "trace", abstract: "Show, compare and import register traces.",
            subcommands: [TraceShow.self, TraceDiffCommand.self, TraceImport.self, TraceExport.self])
    }

    struct TraceShow: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Check a trace file and print it with line numbers.")
        @Argument(help: "Trace file.") var file: String

        func run() throws {
            let trace = try Trace.load(path: file)
            let text = trace.render()
            for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !(line.isEmpty && i > 0) {
                print("\(String(i + 1).leftPadded(5))  \(line)")
            }
        }
    }
}

extension PCIDiag {
    struct TraceDiffCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "diff",
            abstract: "Compare two traces, ignoring poll repeat counts, comments and bus addresses.",
            discussion: "Exit status: 0 when the traces match, 1 when they differ (the differences are printed).")
        @Argument(help: "First trace.") var a: String
        @Argument(help: "Second trace.") var b: String
        @Option(help: "Context lines around each difference.") var context: Int = 2
        @Flag(help: "Ignore MARK lines.") var ignoreMarks = false
        @OptionGroup var format: FormatOptions

        func run() throws {
            guard (0...100).contains(context) else { throw ValidationError("--context must be 0...100") }
            let ta = try Trace.load(path: a)
            let tb = try Trace.load(path: b)
            let c = TraceDiff.compare(ta, tb, options: TraceDiffOptions(contextLines: context, ignoreMarks: ignoreMarks))
            if format.json {
                try DiagOutput.json(DiffSummary(equal: c.isEqual, deviceDifferences: c.deviceDifferences, hunks: c.hunks.count, truncated: c.isTruncated))
            } else if c.isEqual {
                print("traces match (\(ta.events.count) and \(tb.events.count) events; poll repeat counts may differ)")
            } else {
                print(c.rendered, terminator: c.rendered.hasSuffix("\n") ? "" : "\n")
            }
            if !c.isEqual { throw ExitCode(1) }
        }
    }

    struct TraceImport: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import-mmiotrace", abstract: "Convert a Linux mmiotrace (from a kernel driver) into a Busmaster trace.")
        @Argument(help: "mmiotrace text file (from /sys/kernel/tracing/trace_pipe).") var input: String
        @Argument(help: "Busmaster trace to write.") var output: String
        @Option(help: "Device (bb:dd.f) when the mmiotrace lists several.") var device: String?

        func run() throws {
            let address = try device.map { try PCIAddress(parsing: $0) }
            let result = try MMIOTraceImporter.importFile(path: input, device: address)
            try result.trace.write(to: output)
            for w in result.warnings { DiagOutput.warn("warning: \(w)") }
            print("imported \(result.trace.events.count) events of \(result.device.summary) into \(output)")
        }
    }

    struct TraceExport: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export-mmiotrace", abstract: "Write a Busmaster trace's register accesses in mmiotrace form.")
        @Argument(help: "Busmaster trace.") var input: String
        @Argument(help: "mmiotrace text file to write.") var output: String

        func run() throws {
            let text = MMIOTraceExporter.export(try Trace.load(path: input))
            do {
                try text.write(toFile: output, atomically: true, encoding: .utf8)
            } catch {
                throw BusmasterError.platform("cannot write '\(output)': \(error.localizedDescription)")
            }
        }
    }
}

struct DiffSummary: Codable {
    var equal: Bool
    var deviceDifferences: [String]
    var hunks: Int
    var truncated: Bool
}

extension String {
    func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
