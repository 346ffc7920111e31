/// An interactive numbered menu, the way WinDriver's diag programs work: each node has a
/// title and either an action or children. Reads choices from standard input; end of input
/// (Ctrl-D, or no terminal in CI) leaves cleanly.
public final class Menu {
    /// A menu entry.
    public struct Item {
        /// Shown text.
        public var title: String
        /// What choosing it does.
        public var action: Kind

        /// Either run something or open a sub-menu.
        public enum Kind {
            /// Runs the closure; errors are printed and the menu continues.
            case run(() throws -> Void)
            /// Opens a sub-menu.
            case submenu(Menu)
        }

        /// Creates an action item.
        public static func action(_ title: String, _ body: @escaping () throws -> Void) -> Item {
            Item(title: title, action: .run(body))
        }

        /// Creates a sub-menu item.
        public static func submenu(_ menu: Menu) -> Item { Item(title: menu.title, action: .submenu(menu)) }
    }

    /// Menu title.
    public let title: String
    /// Entries, numbered from 1.
    public var items: [Item]
    private let input: () -> String?

    /// Creates a menu reading lines with `input` (default: standard input).
    public init(_ title: String, items: [Item] = [], input: @escaping () -> String? = { readLine() }) {
        self.title = title
        self.items = items
        self.input = input
    }

    /// Prompts for a line; nil on end of input.
    public func ask(_ prompt: String) -> String? {
        print(prompt, terminator: " ")
        return input()?.trimmingCharacters(in: .whitespaces)
    }

    /// Shows the menu until the user picks Exit/Back or input ends. Returns false when
    /// input ended (so parents stop too).
    @discardableResult
    public func run() -> Bool {
        while true {
            print("\n\(title)")
            print(String(repeating: "-", count: title.count))
            for (i, item) in items.enumerated() { print(" \(i + 1). \(item.title)\(isSubmenu(item) ? " ..." : "")") }
            print(" 99. \(isTop ? "Exit" : "Back")")
            guard let line = ask("Enter option:") else {
                print("")
                return false
            }
            if line.isEmpty { continue }
            guard let n = Int(line), n == 99 || (1...items.count).contains(n) else {
                print("Invalid option '\(line)': enter 1-\(items.count) or 99.")
                continue
            }
            if n == 99 { return true }
            switch items[n - 1].action {
            case .run(let body):
                do { try body() } catch { print("Error: \(error)") }
            case .submenu(let m):
                m.isTop = false
                if !m.run() { return false }
            }
        }
    }

    private var isTop = true
    private func isSubmenu(_ i: Item) -> Bool {
        if case .submenu = i.action { return true }
        return false
    }
}

import Foundation
