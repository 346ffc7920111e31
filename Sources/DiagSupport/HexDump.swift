/// Hex dumps in the style of `lspci -x` (16 bytes per line, offset prefix) with an optional
/// ASCII column.
public enum HexDump {
    /// Formats `bytes`, labelling the first one with `startOffset`.
    public static func format(_ bytes: [UInt8], startOffset: Int = 0, ascii: Bool = false) -> String {
        var out = ""
        var i = 0
        while i < bytes.count {
            let line = bytes[i..<min(i + 16, bytes.count)]
            out += hexDigits(startOffset + i, startOffset + bytes.count > 0x1000 ? 8 : 3) + ": "
            out += line.map { hexDigits($0, 2) }.joined(separator: " ")
            if ascii {
                out += String(repeating: "   ", count: 16 - line.count) + "  |"
                out += String(line.map { (0x20..<0x7F).contains($0) ? Character(UnicodeScalar($0)) : "." }) + "|"
            }
            out += "\n"
            i += 16
        }
        return out
    }

    /// Formats register values of `width` bytes each, 16 bytes of registers per line.
    public static func formatWords(_ values: [UInt64], width: Int, startOffset: Int) -> String {
        let perLine = max(1, 16 / width)
        var out = ""
        var i = 0
        while i < values.count {
            out += hexDigits(startOffset + i * width, 8) + ": "
            out += values[i..<min(i + perLine, values.count)].map { hexDigits($0, width * 2) }.joined(separator: " ")
            out += "\n"
            i += perLine
        }
        return out
    }
}
