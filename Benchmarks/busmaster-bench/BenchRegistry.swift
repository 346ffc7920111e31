/// The XDMA rows (2, 3, 4, 6, 7).
enum BenchRegistry {
    static func xdmaRows(runs: Int, want: (Int) -> Bool) -> [Row] {
        var rows: [Row] = []
        func attempt(_ id: Int, _ body: () throws -> Row) {
            guard want(id) else { return }
            do { rows.append(try body()) } catch {
                rows.append(Row(id: id, what: "row \(id)", measurements: [:], ratio: nil, ratioDefinition: "failed",
                                target: "", met: false, notes: ["error: \(error)"]))
            }
        }
        attempt(2) { ChainBuildBench.run(runs: runs) }
        attempt(3) { try ThroughputBench.run(runs: runs) }
        attempt(4) { try DriverCostBench.run(runs: runs) }
        attempt(6) { try MMIOCountBench.run() }
        attempt(7) { try GrowthBench.run(runs: runs) }
        return rows
    }
}
