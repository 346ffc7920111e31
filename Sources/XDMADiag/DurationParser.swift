import ArgumentParser
import Busmaster
import Foundation

/// Parses timeouts as users type them: `10` or `2.5` (seconds), `500ms`, `3s`, `100us`.
enum DurationParser {
    /// The longest timeout accepted (one hour), so a typo cannot make a wait unbounded.
    static let maximum: Duration = .seconds(3600)

    /// Parses `text`; throws a message naming the accepted forms.
    static func parse(_ text: String, name: String = "--timeout") throws -> Duration {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(String, Double)] = [("ms", 1e-3), ("us", 1e-6), ("µs", 1e-6), ("ns", 1e-9), ("s", 1)]
        var scale = 1.0
        var digits = Substring(t)
        for (suffix, s) in units where t.hasSuffix(suffix) {
            scale = s
            digits = t.dropLast(suffix.count)
            break
        }
        guard let v = Double(digits), v.isFinite, v > 0 else {
            throw ValidationError("\(name) '\(text)' is not a positive duration (e.g. 10, 2.5s, 500ms)")
        }
        let nanos = v * scale * 1e9
        guard nanos >= 1_000, nanos <= Double(maximum.nanoseconds) else {
            throw ValidationError("\(name) '\(text)' must be between 1us and 3600s")
        }
        return .nanoseconds(Int64(nanos))
    }
}
