/// A shortest edit script between two sequences of integers (Myers' O(ND) algorithm),
/// with a bound on the number of edits so huge, very different inputs cannot take
/// quadratic time and memory.
enum EditScript {
    /// One step of the script.
    enum Op: Equatable {
        /// `a[i]` equals `b[j]`.
        case equal(Int, Int)
        /// `a[i]` is only in `a`.
        case delete(Int)
        /// `b[j]` is only in `b`.
        case insert(Int)
    }

    /// The edit script turning `a` into `b`, or nil when more than `maxEdits` edits are needed.
    static func compute(_ a: [Int], _ b: [Int], maxEdits: Int) -> [Op]? {
        // Common prefix and suffix cost nothing; strip them first.
        var prefix = 0
        while prefix < a.count && prefix < b.count && a[prefix] == b[prefix] { prefix += 1 }
        var suffix = 0
        while suffix < a.count - prefix && suffix < b.count - prefix && a[a.count - 1 - suffix] == b[b.count - 1 - suffix] {
            suffix += 1
        }
        let ma = Array(a[prefix..<(a.count - suffix)])
        let mb = Array(b[prefix..<(b.count - suffix)])
        guard let middle = myers(ma, mb, maxEdits: maxEdits) else { return nil }
        var ops: [Op] = (0..<prefix).map { .equal($0, $0) }
        for op in middle {
            switch op {
            case .equal(let i, let j): ops.append(.equal(i + prefix, j + prefix))
            case .delete(let i): ops.append(.delete(i + prefix))
            case .insert(let j): ops.append(.insert(j + prefix))
            }
        }
        for s in 0..<suffix { ops.append(.equal(a.count - suffix + s, b.count - suffix + s)) }
        return ops
    }

    private static func myers(_ a: [Int], _ b: [Int], maxEdits: Int) -> [Op]? {
        let n = a.count
        let m = b.count
        if n == 0 && m == 0 { return [] }
        let limit = min(n + m, maxEdits)
        let offset = limit + 1
        var v = [Int](repeating: 0, count: 2 * limit + 3)
        // snapshots[d][k + d] = furthest x on diagonal k after d edits.
        var snapshots: [[Int]] = []
        var found: Int?
        outer: for d in 0...limit {
            var k = -d
            while k <= d {
                var x: Int
                if k == -d || (k != d && v[offset + k - 1] < v[offset + k + 1]) {
                    x = v[offset + k + 1]
                } else {
                    x = v[offset + k - 1] + 1
                }
                var y = x - k
                while x < n && y < m && a[x] == b[y] {
                    x += 1
                    y += 1
                }
                v[offset + k] = x
                k += 2
            }
            snapshots.append(Array(v[(offset - d)...(offset + d)]))
            for k in stride(from: -d, through: d, by: 2) where v[offset + k] >= n && v[offset + k] - k >= m {
                found = d
                break outer
            }
        }
        guard let total = found else { return nil }
        // Walk back from (n, m).
        var reversed: [Op] = []
        var x = n
        var y = m
        var d = total
        while d > 0 {
            let prev = snapshots[d - 1]
            func at(_ k: Int) -> Int { prev[k + d - 1] }
            let k = x - y
            let prevK = (k == -d || (k != d && at(k - 1) < at(k + 1))) ? k + 1 : k - 1
            let prevX = at(prevK)
            let prevY = prevX - prevK
            let startX = prevK == k + 1 ? prevX : prevX + 1
            let startY = startX - k
            while x > startX && y > startY {
                x -= 1
                y -= 1
                reversed.append(.equal(x, y))
            }
            if prevK == k + 1 { reversed.append(.insert(prevY)) } else { reversed.append(.delete(prevX)) }
            x = prevX
            y = prevY
            d -= 1
        }
        while x > 0 && y > 0 {
            x -= 1
            y -= 1
            reversed.append(.equal(x, y))
        }
        return reversed.reversed()
    }
}
