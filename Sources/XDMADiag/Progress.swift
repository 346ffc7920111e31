import Busmaster
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A one-line progress display on standard error for long runs: shown when standard error
/// is a terminal or `--progress` was given, redrawn at most ten times a second, and erased
/// when done. Standard output (text or JSON) is never touched.
final class Progress {
    /// Whether anything is drawn.
    let enabled: Bool
    private var lastDraw: UInt64 = 0
    private var width = 0

    /// A display that draws when `enabled`.
    init(enabled: Bool) { self.enabled = enabled }

    /// Shows progress when `forced` or when standard error is a terminal.
    convenience init(forced: Bool) { self.init(enabled: forced || isatty(STDERR_FILENO) == 1) }

    /// Redraws the line with `text` (throttled unless `force`).
    func update(_ text: @autoclosure () -> String, force: Bool = false) {
        guard enabled else { return }
        let now = monotonicNanos()
        if !force && now &- lastDraw < 100_000_000 { return }
        lastDraw = now
        let t = text()
        let pad = max(0, width - t.count)
        width = t.count
        write("\r" + t + String(repeating: " ", count: pad))
    }

    /// `label` with `done` of `total` as a percentage (always drawn when `done` reaches `total`).
    func step(_ label: String, _ done: Int, of total: Int) {
        update("\(label) \(done)/\(total) (\(total == 0 ? 100 : done * 100 / total)%)", force: done >= total)
    }

    /// Erases the line.
    func finish() {
        guard enabled, width > 0 else { return }
        write("\r" + String(repeating: " ", count: width) + "\r")
        width = 0
    }

    private func write(_ s: String) {
        FileHandle.standardError.write(Data(s.utf8))
    }
}
