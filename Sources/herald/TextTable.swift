import Foundation

/// The CLI's listings: columns padded to their widest cell, two spaces apart, the last column
/// left as it is (notes, reasons and bodies run long).
enum TextTable {
    /// One line per row, the header first as given.
    static func lines(_ rows: [[String]]) -> [String] {
        guard let first = rows.first else { return [] }
        let widths = (0..<max(first.count - 1, 0)).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.indices.map { column in
                column == row.count - 1
                    ? row[column] : row[column].padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
    }
}
