import Foundation

/// busmaster-bench: measures the core and XDMA hot paths against C baselines and physical
/// limits in one run; writes JSON and a Markdown table.
let arguments = CommandLine.arguments.dropFirst()
let runs = arguments.firstIndex(of: "--runs").flatMap { Int(arguments[arguments.index(after: $0)]) } ?? 5
let outDir = arguments.firstIndex(of: "--output").map { arguments[arguments.index(after: $0)] } ?? "bench-results"
let only = arguments.firstIndex(of: "--rows").map { Set(arguments[arguments.index(after: $0)].split(separator: ",").compactMap { Int($0) }) }

var rows: [Row] = []
func want(_ id: Int) -> Bool { only.map { $0.contains(id) } ?? true }

if want(1) { rows.append(RegisterAccessBench.run(runs: runs)) }
if want(5) { rows.append(try InterruptLatencyBench.run(runs: runs)) }
for extra in BenchRegistry.xdmaRows(runs: runs, want: want) { rows.append(extra) }
rows.sort { $0.id < $1.id }

try Report.write(rows, to: outDir)
print(Report.markdown(rows))
