import Foundation

/// One entry of `rules:`: when it fires and what it sends.
public struct Rule: Sendable {
    public var id: String
    public var when: When
    /// Nil for a rule that only stops (`stop: true` without `send`), e.g. to silence sandbox events.
    public var send: Send?
    /// When this rule matches, later rules are not evaluated.
    public var stop: Bool
    public var location: SourceLocation
    /// Where each part was written (`when.provider`, `when.transition.to`, `send.channel`, …), for `herald check`.
    public var locations: [String: SourceLocation]

    public func location(of part: String) -> SourceLocation { locations[part] ?? location }
}

/// A line and column in a file.
public struct SourceLocation: Sendable, Equatable {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
}

/// The conditions of a rule, compiled: sets for lookups, a tree of predicates for `where`.
public struct When: Sendable {
    /// Nil: any provider.
    public var providers: Set<String>? { didSet { providersText = providers.map(Self.describe) } }
    public var events: Set<String>? { didSet { eventsText = events.map(Self.describe) } }
    public var transition: TransitionMatch?
    public var sandbox: Bool?
    public var predicate: Predicate?
    /// `providers` and `events` as a miss names them (`one of [a, b]`), kept with them: dry-run
    /// names them for every rule an event misses, and sorting and joining them each time took
    /// 2.6 % of a run (perf, 20 000 envelopes).
    private(set) var providersText: String?
    private(set) var eventsText: String?

    public init(
        providers: Set<String>? = nil, events: Set<String>? = nil, transition: TransitionMatch? = nil,
        sandbox: Bool? = nil, predicate: Predicate? = nil
    ) {
        self.providers = providers
        self.events = events
        self.transition = transition
        self.sandbox = sandbox
        self.predicate = predicate
        self.providersText = providers.map(Self.describe)
        self.eventsText = events.map(Self.describe)
    }
}

/// `transition: {from, to}`: each a status, a list, or absent for "any".
public struct TransitionMatch: Sendable, Equatable {
    public var from: [String]?
    public var to: [String]?
    let fromSet: Set<String>?
    let toSet: Set<String>?

    /// `from→to` as a miss names it, worked out once (like the sets above).
    let description: String

    public init(from: [String]?, to: [String]?) {
        self.from = from
        self.to = to
        self.fromSet = from.map(Set.init)
        self.toSet = to.map(Set.init)
        self.description = "\(Self.describe(from))→\(Self.describe(to))"
    }

    public static func == (a: TransitionMatch, b: TransitionMatch) -> Bool { a.from == b.from && a.to == b.to }

    static func describe(_ statuses: [String]?) -> String {
        guard let statuses else { return "*" }
        return statuses.count == 1 ? statuses[0] : "[\(statuses.joined(separator: ", "))]"
    }
}

/// What a matching rule sends.
public struct Send: Sendable, Equatable {
    public var channel: String
    public var template: String
    /// A fixed recipient (`${MERCHANT_PHONE}`), expanded; nil sends to the customer.
    public var to: String?
    /// `to` as written (`${MERCHANT_PHONE}`) when a variable in it is unset: its messages are held
    /// until the variable is set, as those of a channel whose credentials are unset.
    public var unsetTo: String?
    public var locale: String?
    /// The channel to use when the first one cannot deliver (WhatsApp 131047).
    public var fallback: String?
    /// Retry a send whose outcome is unknown even when the channel cannot deduplicate.
    public var atLeastOnce: Bool

    public init(
        channel: String, template: String, to: String? = nil, locale: String? = nil, fallback: String? = nil,
        atLeastOnce: Bool = false, unsetTo: String? = nil
    ) {
        self.channel = channel
        self.template = template
        self.to = to
        self.unsetTo = unsetTo
        self.locale = locale
        self.fallback = fallback
        self.atLeastOnce = atLeastOnce
    }
}
