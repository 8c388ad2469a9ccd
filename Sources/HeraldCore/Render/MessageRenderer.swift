import Foundation

/// A Meta template call: what the WhatsApp Cloud API is asked to send.
public struct WhatsAppTemplateCall: Sendable, Equatable {
    public var name: String
    public var language: String
    public var parameters: [String]

    public init(name: String, language: String, parameters: [String]) {
        self.name = name
        self.language = language
        self.parameters = parameters
    }
}

/// The message one rule yields for one event: recipient, locale and why, text, SMS cost.
public struct RenderedMessage: Sendable, Equatable {
    public var rule: String
    public var channel: String
    public var channelType: String
    /// E.164; nil when the recipient could not be addressed (see `problems`) or is unset (`unsetTo`).
    public var to: String?
    /// The locale of the template used.
    public var locale: String
    /// Why that locale: `rule`, `customer`, `provider`, `country MA`, `default`, plus any fallback.
    public var localeReason: String
    public var text: String
    /// For SMS channels: GSM-7 or UCS-2 and the number of segments.
    public var encoding: SMSEncoding?
    public var whatsapp: WhatsAppTemplateCall?
    /// Values printed outside a section that this event lacks; each is also a problem.
    public var missingVariables: [String]
    /// What keeps this message from being sent (no recipient, no template, an unreadable value it prints).
    public var problems: [String]
    public var idempotencyKey: String?
    /// The rule's `to` as written (`${MERCHANT_PHONE}`) when a variable in it is unset: the message
    /// is held until it is set, not failed.
    public var unsetTo: String? = nil
}

/// Turns a matched rule and an event into the exact message, in the recipient's language.
public struct MessageRenderer: Sendable {
    public var ruleSet: RuleSet
    public var templates: TemplateStore
    public let formatters: Formatters

    public init(ruleSet: RuleSet, templates: TemplateStore, formatters: Formatters = Formatters()) {
        self.ruleSet = ruleSet
        self.templates = templates
        self.formatters = formatters
    }

    public func render(_ rule: Rule, event: CanonicalEvent) -> RenderedMessage? {
        guard let send = rule.send else { return nil }
        let profile = ruleSet.provider(named: event.provider)
        let channel = ruleSet.channels.first { $0.name == send.channel }
        var problems: [String] = []

        // Recipient: the rule's fixed `to`, or the customer.
        let defaultCountry = profile?.country ?? ruleSet.defaults.country
        var to: String?
        if send.unsetTo != nil {
            // Held, not failed: the recipient is resolved again when the message is released.
        } else if let raw = send.to ?? event.customer.phone {
            let reach: PhoneNumber.Channel = channel?.type == "whatsapp-cloud" ? .whatsapp : .sms
            switch PhoneNumber.normalize(raw, defaultCountry: defaultCountry, channel: reach) {
            case .success(let number): to = number
            case .failure(let problem): problems.append("recipient: \(problem)")
            }
        } else {
            problems.append("recipient: the event has no customer.phone")
        }
        let recipientCountry = to.flatMap(PhoneNumber.country(of:))

        let (requested, reason) = LocaleResolution.resolve(
            send: send, event: event, provider: profile, recipientCountry: recipientCountry, defaults: ruleSet.defaults)
        guard let template = templates.template(send.template, locale: requested, defaultLocale: ruleSet.defaults.locale) else {
            problems.append("template '\(send.template)' has no '\(requested)' version and no fallback")
            return RenderedMessage(
                rule: rule.id, channel: send.channel, channelType: channel?.type ?? "unknown", to: to, locale: requested,
                localeReason: reason, text: "", encoding: nil, whatsapp: nil, missingVariables: [], problems: problems,
                idempotencyKey: nil, unsetTo: send.unsetTo)
        }
        let localeReason = template.locale == requested ? reason : "\(reason); \(requested) not available, used \(template.locale)"
        let region = LocaleResolution.region(of: requested) ?? recipientCountry ?? profile?.country ?? ruleSet.defaults.country
        let formattingLocale = region.map { "\(template.locale.prefix { $0 != "-" && $0 != "_" })-\($0)" } ?? template.locale
        let context = TemplateContext(
            event: event, locale: formattingLocale, timeZone: profile?.timeZone ?? ruleSet.defaults.timeZone,
            formatters: formatters)
        var text = template.message.render(context)
        var missing = template.message.missingNames(context)
        var unreadable: Set<String> = []
        if !event.invalidFields.isEmpty {
            // An unreadable value is reported with its reason, not as merely missing.
            let binding = channel?.type == "whatsapp-cloud" ? templates.binding(send.template) : nil
            let printed = template.printedNames.union(binding?.printedNames ?? [])
            problems += InvalidFieldUse.problems(event.invalidFields, printed: printed)
            unreadable = Set(event.invalidFields.keys.flatMap(InvalidFieldUse.names(printing:)))
            missing.removeAll(where: unreadable.contains)
        }

        let type = channel?.type ?? "unknown"
        var encoding: SMSEncoding?
        var whatsapp: WhatsAppTemplateCall?
        if type == "whatsapp-cloud" {
            if let binding = templates.binding(send.template) {
                for (name, lookup) in binding.required
                where !missing.contains(name) && !unreadable.contains(name)
                    && MessageTemplate.isMissing(lookup, in: context)
                {
                    missing.append(name)
                }
                let language = binding.languages[template.locale] ?? template.locale
                let parameters = (binding.parameters[template.locale] ?? []).map { $0.render(context) }
                whatsapp = WhatsAppTemplateCall(name: binding.name, language: language, parameters: parameters)
            }
        } else {
            if channel?.configuration.smartEncoding == true, let replaced = SMSEncoding.smartReplaced(text) {
                text = replaced
            }
            encoding = SMSEncoding.of(text)
        }
        // A value printed outside a section that the event lacks would leave a hole in the
        // sentence ("votre commande  a bien été livrée"): the message fails instead.
        problems += missing.map { "missing \($0)" }
        // A held recipient is keyed by the rule's `to` as written, so releasing it keeps the key.
        let key = (to ?? send.unsetTo).map {
            IdempotencyKey.make(
                provider: event.provider, reference: event.order.reference ?? event.event ?? "",
                status: event.order.status ?? event.event ?? "", rule: rule.id, channel: send.channel, recipient: $0)
        }
        return RenderedMessage(
            rule: rule.id, channel: send.channel, channelType: type, to: to, locale: template.locale,
            localeReason: localeReason, text: text, encoding: encoding, whatsapp: whatsapp, missingVariables: missing,
            problems: problems, idempotencyKey: key, unsetTo: send.unsetTo)
    }
}

/// DESIGN.md's order: `send.locale` → `customer.locale` → the provider's `locale` →
/// `locales_by_country` of the phone's country → `defaults.locale`.
public enum LocaleResolution {
    public static func resolve(
        send: Send, event: CanonicalEvent, provider: ProviderProfile?, recipientCountry: String?,
        defaults: RuleSet.Defaults
    ) -> (locale: String, reason: String) {
        if let locale = send.locale { return (locale, "rule") }
        if let locale = event.customer.locale { return (locale, "customer") }
        if let locale = provider?.locale { return (locale, "provider") }
        if let country = recipientCountry, let locale = defaults.localesByCountry[country] {
            return (locale, "country \(country)")
        }
        return (defaults.locale, "default")
    }

    /// The region of `ar-MA` or `fr_MA`, if the locale names one.
    static func region(of locale: String) -> String? {
        guard locale.contains(where: { $0 == "-" || $0 == "_" }) else { return nil }
        let parts = locale.split(whereSeparator: { $0 == "-" || $0 == "_" })
        guard parts.count >= 2, parts[1].count == 2 else { return nil }
        return parts[1].uppercased()
    }
}
