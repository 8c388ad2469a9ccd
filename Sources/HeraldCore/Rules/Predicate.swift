import Foundation

/// A field of the canonical event that a `where:` predicate reads, resolved when the rules load.
public enum FieldReference: Sendable, Hashable, CustomStringConvertible {
    case provider
    case statusGroup
    case canonical(CanonicalField)
    /// `payload.<path>`: the provider's own JSON.
    case payload(FieldPath)

    /// Every name `where:` accepts besides `payload.*`.
    public static let names: [String] = ["provider", "order.status_group"] + CanonicalField.allCases.map(\.rawValue)

    public init?(_ text: String) {
        switch text {
        case "provider": self = .provider
        case "order.status_group": self = .statusGroup
        default:
            if let field = CanonicalField(rawValue: text) {
                self = .canonical(field)
            } else if text.hasPrefix("payload."), text.count > "payload.".count {
                self = .payload(FieldPath(String(text.dropFirst("payload.".count))))
            } else {
                return nil
            }
        }
    }

    public var description: String {
        switch self {
        case .provider: return "provider"
        case .statusGroup: return "order.status_group"
        case .canonical(let field): return field.rawValue
        case .payload(let path): return "payload.\(path)"
        }
    }
}

/// A value read from an event, typed so that numbers and dates compare as such.
public enum FieldValue: Sendable, Equatable, CustomStringConvertible {
    case text(String)
    case number(Decimal)
    case date(Date)
    case bool(Bool)

    public var description: String {
        switch self {
        case .text(let s): return "'\(s)'"
        case .number(let n): return "\(n)"
        case .date(let d): return Timestamp.format(d)
        case .bool(let b): return b ? "true" : "false"
        }
    }

    var text: String {
        switch self {
        case .text(let s): return s
        case .number(let n): return "\(n)"
        case .date(let d): return Timestamp.format(d)
        case .bool(let b): return b ? "true" : "false"
        }
    }

    var number: Decimal? {
        switch self {
        case .number(let n): return n
        case .text(let s): return Decimal(string: s, locale: Locale(identifier: "en_US_POSIX"))
        default: return nil
        }
    }
}

extension CanonicalEvent {
    /// The value of a field, or nil when the event has none.
    public func value(of reference: FieldReference) -> FieldValue? {
        switch reference {
        case .provider: return .text(provider)
        case .statusGroup: return order.statusGroup.map(FieldValue.text)
        case .canonical(let field):
            switch field {
            case .sandbox: return .bool(sandbox)
            case .occurredAt: return occurredAt.map(FieldValue.date)
            case .orderCreatedAt: return order.createdAt.map(FieldValue.date)
            case .orderAmount: return order.amount.map { .number($0.value) }
            default: return value(of: field).map(FieldValue.text)
            }
        case .payload(let path):
            switch payload.value(at: path) {
            case .string(let s)?: return .text(s)
            case .number(let n)?: return Decimal(string: n, locale: Locale(identifier: "en_US_POSIX")).map(FieldValue.number)
            case .bool(let b)?: return .bool(b)
            default: return nil
            }
        }
    }
}

/// The operand of `gt`/`gte`/`lt`/`lte`: a number or an ISO 8601 date.
public enum Threshold: Sendable, Equatable {
    case number(Decimal)
    case date(Date)
}

/// A compiled `where:` condition.
public indirect enum Predicate: Sendable {
    case all([Predicate])
    case any([Predicate])
    case not(Predicate)
    case field(FieldReference, FieldTest)

    /// Whether the predicate holds: the hot path, with no explanation built.
    public func holds(on event: CanonicalEvent) -> Bool {
        switch self {
        case .all(let parts): return parts.allSatisfy { $0.holds(on: event) }
        case .any(let parts): return parts.contains { $0.holds(on: event) }
        case .not(let inner): return !inner.holds(on: event)
        case .field(let reference, let test): return test.holds(value: event.value(of: reference))
        }
    }

    /// Nil when the predicate holds; otherwise the first failing condition, in words.
    public func failure(on event: CanonicalEvent) -> String? {
        switch self {
        case .all(let parts):
            for part in parts {
                if let reason = part.failure(on: event) { return reason }
            }
            return nil
        case .any(let parts):
            var reasons: [String] = []
            for part in parts {
                guard let reason = part.failure(on: event) else { return nil }
                reasons.append(reason)
            }
            return "none of: " + reasons.joined(separator: "; ")
        case .not(let inner):
            return inner.failure(on: event) == nil ? "not: \(inner.summary)" : nil
        case .field(let reference, let test):
            return test.failure(value: event.value(of: reference), field: reference)
        }
    }

    /// The condition in words (`order.delivery_notes contains 'call'`).
    public var summary: String {
        switch self {
        case .all(let parts): return parts.map(\.summary).joined(separator: " and ")
        case .any(let parts): return "(" + parts.map(\.summary).joined(separator: " or ") + ")"
        case .not(let inner): return "not (\(inner.summary))"
        case .field(let reference, let test): return "\(reference) \(test.summary)"
        }
    }
}

/// One test on one field.
public enum FieldTest: Sendable {
    case equals(String)
    case oneOf(Set<String>, [String])
    /// Case- and accent-insensitive; the needle is folded once when the rules load.
    case contains(String, folded: String)
    case matches(String, RegexBox)
    case exists(Bool)
    case greater(Threshold, orEqual: Bool)
    case less(Threshold, orEqual: Bool)

    var summary: String {
        switch self {
        case .equals(let v): return "equals '\(v)'"
        case .oneOf(_, let list): return "in [\(list.joined(separator: ", "))]"
        case .contains(let v, _): return "contains '\(v)'"
        case .matches(let pattern, _): return "matches /\(pattern)/"
        case .exists(let wanted): return wanted ? "exists" : "does not exist"
        case .greater(let t, let orEqual): return (orEqual ? "≥ " : "> ") + Self.describe(t)
        case .less(let t, let orEqual): return (orEqual ? "≤ " : "< ") + Self.describe(t)
        }
    }

    static func describe(_ threshold: Threshold) -> String {
        switch threshold {
        case .number(let n): return "\(n)"
        case .date(let d): return Timestamp.format(d)
        }
    }

    func holds(value: FieldValue?) -> Bool {
        if case .exists(let wanted) = self { return (value != nil) == wanted }
        guard let value else { return false }
        switch self {
        case .equals(let expected):
            if case .number(let number) = value, let wanted = Self.decimal(expected) {
                return number == wanted
            }
            if case .text(let text) = value { return text == expected }
            return value.text == expected
        case .oneOf(let set, _):
            return set.contains(value.text)
        case .contains(_, let needle):
            return TextFolding.fold(value.text).contains(needle)
        case .matches(_, let regex):
            return regex.matches(value.text)
        case .exists:
            return true
        case .greater(let threshold, let orEqual):
            guard let order = Self.compare(value, threshold) else { return false }
            return order == .orderedDescending || (orEqual && order == .orderedSame)
        case .less(let threshold, let orEqual):
            guard let order = Self.compare(value, threshold) else { return false }
            return order == .orderedAscending || (orEqual && order == .orderedSame)
        }
    }

    func failure(value: FieldValue?, field: FieldReference) -> String? {
        if holds(value: value) { return nil }
        if case .exists(let wanted) = self { return "\(field) \(wanted ? "is missing" : "exists")" }
        guard let value else { return "\(field) is missing (wanted it to \(summary))" }
        switch self {
        case .greater(let threshold, _), .less(let threshold, _):
            if Self.compare(value, threshold) == nil {
                return "\(field) is \(value), not comparable to \(Self.describe(threshold))"
            }
        default:
            break
        }
        return "\(field) is \(value), wanted it to \(summary)"
    }

    /// `expected` as a number, parsed only for numeric values (rare in `equals`).
    static func decimal(_ expected: String) -> Decimal? {
        guard let first = expected.utf8.first, first == UInt8(ascii: "-") || (first >= 0x30 && first <= 0x39) else { return nil }
        return Decimal(string: expected, locale: Locale(identifier: "en_US_POSIX"))
    }

    static func compare(_ value: FieldValue, _ threshold: Threshold) -> ComparisonResult? {
        switch threshold {
        case .number(let limit):
            guard let number = value.number else { return nil }
            return number == limit ? .orderedSame : (number < limit ? .orderedAscending : .orderedDescending)
        case .date(let limit):
            let date: Date
            switch value {
            case .date(let d): date = d
            case .text(let s):
                guard let d = Timestamp.parse(s, defaultTimeZone: TimeZone(identifier: "UTC")!) else { return nil }
                date = d
            default: return nil
            }
            return date == limit ? .orderedSame : (date < limit ? .orderedAscending : .orderedDescending)
        }
    }
}

/// A compiled regular expression that can be shared across tasks (it is immutable once built).
public final class RegexBox: @unchecked Sendable {
    let regex: NSRegularExpression

    /// Compiles `pattern` (ICU syntax); throws `InvalidPattern` whose `reason` says what is wrong.
    public init(_ pattern: String) throws {
        do {
            regex = try NSRegularExpression(pattern: pattern)
        } catch {
            throw InvalidPattern(reason: Self.reason(pattern))
        }
    }

    /// Why a pattern does not compile. Foundation on Linux drops ICU's reason, so the pattern is parsed
    /// again by Swift's `Regex`, whose errors say what is missing or wrong ("expected ')'").
    static func reason(_ pattern: String) -> String {
        do {
            _ = try Regex(pattern)
        } catch {
            return "\(error)"
        }
        return "the ICU regular expression syntax does not accept it"
    }

    /// A pattern that does not compile, and why.
    public struct InvalidPattern: Error, CustomStringConvertible {
        public var reason: String
        public var description: String { reason }
    }

    func matches(_ text: String) -> Bool {
        regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }
}

/// Case- and accent-insensitive comparison for Latin text: "Livré" and "livre" fold alike.
public enum TextFolding {
    public static func fold(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return text.lowercased() }
        return text.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil)
    }
}
