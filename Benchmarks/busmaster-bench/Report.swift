import Foundation

/// JSON and Markdown output of a benchmark run.
enum Report {
    static func markdown(_ rows: [Row]) -> String {
        var s = "| # | What | Measurements (median, min–max) | Ratio | Target | Met |\n|---|---|---|---|---|---|\n"
        for r in rows {
            let m = r.measurements.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value.text)" }.joined(separator: "<br>")
            let ratio = r.ratio.map { String(format: "%.2f× (%@)", $0, r.ratioDefinition) } ?? r.ratioDefinition
            let notes = r.notes.isEmpty ? "" : "<br>" + r.notes.joined(separator: "<br>")
            s += "| \(r.id) | \(r.what) | \(m)\(notes) | \(ratio) | \(r.target) | \(r.met.map { $0 ? "yes" : "**no**" } ?? "–") |\n"
        }
        return s
    }

    static func write(_ rows: [Row], to dir: String) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        var info = utsname()
        uname(&info)
        let machine = withUnsafeBytes(of: &info.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        struct Doc: Codable {
            var date: String
            var machine: String
            var cores: Int
            var rows: [Row]
        }
        let doc = Doc(date: ISO8601DateFormatter().string(from: Date()), machine: machine, cores: ProcessInfo.processInfo.activeProcessorCount, rows: rows)
        try enc.encode(doc).write(to: URL(fileURLWithPath: dir + "/results.json"))
        try markdown(rows).write(toFile: dir + "/results.md", atomically: true, encoding: .utf8)
    }
}
