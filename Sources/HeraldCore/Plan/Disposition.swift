/// What becomes of a rendered message before any provider is asked, decided once for the
/// processor (the state it stores) and dry-run (what it shows): it fails (no usable recipient, a
/// missing or unreadable value), it is held until a person sets what is missing (the recipient's
/// variable or the channel's credentials), or it may be sent.
public enum Disposition: Sendable, Equatable {
    case send
    /// The reason names the variables, never a number.
    case held(String)
    /// The reasons are the message's `problems`.
    case failed
}

extension RenderedMessage {
    public func disposition(channels: [RuleSet.Channel]) -> Disposition {
        if !problems.isEmpty || (to == nil && unsetTo == nil) { return .failed }
        if let unsetTo { return .held(Disposition.unsetRecipient(unsetTo)) }
        if let channel = channels.first(where: { $0.name == self.channel }), !channel.canSend {
            return .held(channel.unsetCredentials)
        }
        return .send
    }
}

extension Disposition {
    /// `recipient ${MERCHANT_PHONE} not set`.
    public static func unsetRecipient(_ variable: String) -> String { "recipient \(variable) not set" }
}

extension RuleSet.Channel {
    /// `channel 'sms' credentials not set: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN`.
    public var unsetCredentials: String {
        "channel '\(name)' credentials not set: \(missing.joined(separator: ", "))"
    }
}
