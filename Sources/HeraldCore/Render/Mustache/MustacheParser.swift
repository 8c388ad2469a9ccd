/// Parses Mustache text into `MustacheNode`s, following the Mustache specification: variables,
/// sections, inverted sections, comments, partials and set-delimiter tags, with standalone lines
/// (a line holding only a section, comment, partial or delimiter tag and whitespace) removed.
/// Errors carry the line and column of the tag at fault.
public enum MustacheParser {
    public static func parse(_ text: String) throws(MustacheSyntaxError) -> [MustacheNode] {
        var state = State(Array(text))
        return try state.run()
    }

    fileprivate struct OpenSection {
        var name: MustacheName
        var inverted: Bool
        var position: MustachePosition
        var outer: [MustacheNode]
    }

    fileprivate struct State {
        let chars: [Character]
        var index = 0
        var line = 1
        var lineStart = 0
        var lastTagEnd = 0
        var open: [Character] = ["{", "{"]
        var close: [Character] = ["}", "}"]
        var buffer = ""
        var nodes: [MustacheNode] = []
        var sections: [OpenSection] = []

        init(_ chars: [Character]) { self.chars = chars }

        static func isNewline(_ c: Character) -> Bool { c == "\n" || c == "\r\n" }
        static func isBlank(_ c: Character) -> Bool { c == " " || c == "\t" }

        func matches(_ literal: [Character], at position: Int) -> Bool {
            guard position + literal.count <= chars.count else { return false }
            for (offset, c) in literal.enumerated() where chars[position + offset] != c { return false }
            return true
        }

        func find(_ literal: [Character], from start: Int) -> Int? {
            var position = start
            while position + literal.count <= chars.count {
                if matches(literal, at: position) { return position }
                position += 1
            }
            return nil
        }

        mutating func flush() {
            if !buffer.isEmpty { nodes.append(.text(buffer)) }
            buffer = ""
        }

        mutating func run() throws(MustacheSyntaxError) -> [MustacheNode] {
            while index < chars.count {
                if matches(open, at: index) {
                    try tag()
                    continue
                }
                let c = chars[index]
                buffer.append(c)
                index += 1
                if Self.isNewline(c) {
                    line += 1
                    lineStart = index
                }
            }
            if let section = sections.last {
                throw MustacheSyntaxError(
                    position: section.position,
                    message: "a section is opened but never closed ({{/\(section.name)}} missing)")
            }
            flush()
            return nodes
        }

        // swift-format-ignore: FunctionBodyLength
        mutating func tag() throws(MustacheSyntaxError) {
            let start = index
            let position = MustachePosition(line: line, column: start - lineStart + 1)
            let startLineStart = lineStart
            var contentStart = start + open.count
            let triple = contentStart < chars.count && chars[contentStart] == "{"
            if triple { contentStart += 1 }
            let closing = triple ? ["}"] + close : close
            guard let contentEnd = find(closing, from: contentStart) else {
                throw MustacheSyntaxError(
                    position: position, message: "a tag is not closed with \(String(close))")
            }
            let end = contentEnd + closing.count
            for offset in start..<end where Self.isNewline(chars[offset]) {
                line += 1
                lineStart = offset + 1
            }
            var content = Substring(String(chars[contentStart..<contentEnd]).trimmingBlanks())
            let sigil: Character? = triple ? "&" : content.first
            if !triple, let sigil, "#^/!>=&".contains(sigil) { content = content.dropFirst() }
            let name = String(content).trimmingBlanks()

            let canStandalone = !triple && sigil.map { "#^/!>=".contains($0) } == true
            var indentation = ""
            index = end
            if canStandalone, lastTagEnd <= startLineStart,
                chars[startLineStart..<start].allSatisfy(Self.isBlank)
            {
                var after = end
                while after < chars.count, Self.isBlank(chars[after]) { after += 1 }
                if after == chars.count || Self.isNewline(chars[after]) {
                    indentation = String(chars[startLineStart..<start])
                    buffer.removeLast(start - startLineStart)
                    index = after
                    if after < chars.count {
                        index += 1
                        line += 1
                        lineStart = index
                    }
                }
            }
            lastTagEnd = end

            switch sigil {
            case "!": return
            case "=": try setDelimiters(String(content), at: position)
            case "#", "^":
                flush()
                sections.append(
                    OpenSection(
                        name: try Self.name(name, at: position), inverted: sigil == "^", position: position,
                        outer: nodes))
                nodes = []
            case "/":
                flush()
                guard let section = sections.popLast() else {
                    throw MustacheSyntaxError(position: position, message: "a closing tag with no open section")
                }
                guard section.name.description == name else {
                    throw MustacheSyntaxError(
                        position: position,
                        message: "the closing tag does not match the open section ({{/\(section.name)}} expected)")
                }
                let node = MustacheNode.section(
                    section.name, inverted: section.inverted, children: nodes, at: section.position)
                nodes = section.outer + [node]
            case ">":
                flush()
                guard !name.isEmpty else {
                    throw MustacheSyntaxError(position: position, message: "a partial needs a name")
                }
                nodes.append(.partial(name, indentation: indentation, at: position))
            default:
                flush()
                let escaped = sigil != "&"
                nodes.append(.variable(try Self.name(name, at: position), escaped: escaped, at: position))
            }
        }

        /// `{{=<% %>=}}`: two delimiters, separated by whitespace, neither holding whitespace or `=`.
        mutating func setDelimiters(_ content: String, at position: MustachePosition) throws(MustacheSyntaxError) {
            let parts = content.dropLast().split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard content.hasSuffix("="), parts.count == 2 else {
                throw MustacheSyntaxError(position: position, message: "invalid delimiter change")
            }
            let newOpen = Array(parts[0])
            let newClose = Array(parts[1])
            guard !newOpen.isEmpty, !newClose.isEmpty, !newOpen.contains("="), !newClose.contains("=") else {
                throw MustacheSyntaxError(position: position, message: "invalid delimiter change")
            }
            open = newOpen
            close = newClose
        }

        static func name(_ text: String, at position: MustachePosition) throws(MustacheSyntaxError) -> MustacheName {
            if text == "." { return MustacheName(parts: []) }
            let parts = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard !text.isEmpty, parts.allSatisfy({ !$0.isEmpty && !$0.contains(where: \.isWhitespace) }) else {
                throw MustacheSyntaxError(
                    position: position, message: text.isEmpty ? "a tag without a name" : "invalid name '\(text)'")
            }
            return MustacheName(parts: parts)
        }
    }
}

extension String {
    /// Without leading and trailing spaces and tabs (and line breaks, inside a tag).
    fileprivate func trimmingBlanks() -> String {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice.removeFirst() }
        while let last = slice.last, last.isWhitespace { slice.removeLast() }
        return String(slice)
    }
}
