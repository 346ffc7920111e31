/// XDMA rows (2, 3, 4, 6, 7) are added here once the XDMA driver and model exist.
enum BenchRegistry {
    static func xdmaRows(runs: Int, want: (Int) -> Bool) -> [Row] { [] }
}
