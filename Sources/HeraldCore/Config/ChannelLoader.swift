import Foundation
import Yams

/// Decodes `channels:` into typed `ChannelConfiguration`s, reporting every problem at its line and column.
extension RuleSetLoader {
    func loadChannels(_ node: Node) -> [RuleSet.Channel] {
        guard let entries = reader.mapping(node, what: "channels") else { return [] }
        var channels: [RuleSet.Channel] = []
        for entry in entries {
            if let channel = loadChannel(name: entry.key, keyNode: entry.keyNode, node: entry.value) {
                channels.append(channel)
            }
        }
        return channels
    }

    private func loadChannel(name: String, keyNode: Node, node: Node) -> RuleSet.Channel? {
        guard let members = reader.mapping(node, what: "channel '\(name)'") else { return nil }
        guard let typeMember = members.first(where: { $0.key == "type" }) else {
            reader.error("channel '\(name)' needs a 'type' (twilio, whatsapp-cloud or http)", at: keyNode)
            return nil
        }
        guard let type = reader.string(typeMember.value, what: "the type of channel '\(name)'") else { return nil }
        guard ChannelConfiguration.types.contains(type) else {
            var message = "unknown type '\(type)' in channel '\(name)' (twilio, whatsapp-cloud or http)"
            if let suggestion = Suggestion.closest(to: type, in: ChannelConfiguration.types) {
                message = "unknown type '\(type)' in channel '\(name)' (did you mean '\(suggestion)'?)"
            }
            reader.error(message, at: typeMember.value)
            return nil
        }
        var decoder = ChannelDecoder(loader: self, channel: name, type: type)
        let allowed = ChannelConfiguration.keys(for: type)
        for member in members where member.key != "type" {
            guard allowed.contains(member.key) else {
                var message = "unknown key '\(member.key)' in channel '\(name)'"
                if let suggestion = Suggestion.closest(to: member.key, in: allowed) {
                    message += " (did you mean '\(suggestion)'?)"
                } else {
                    message += " (a \(type) channel takes \(allowed.filter { $0 != "type" }.joined(separator: ", ")))"
                }
                reader.error(message, at: member.keyNode)
                continue
            }
            decoder.values[member.key] = member.value
        }
        guard let configuration = decoder.decode(at: keyNode) else { return nil }
        return RuleSet.Channel(name: name, configuration: configuration, missing: decoder.missing)
    }
}

/// Reads one channel's members by key, with `${NAME}` expanded in text values.
private struct ChannelDecoder {
    let loader: RuleSetLoader
    let channel: String
    let type: String
    var values: [String: Node] = [:]
    var missing: [String] = []
    var failed = false

    init(loader: RuleSetLoader, channel: String, type: String) {
        self.loader = loader
        self.channel = channel
        self.type = type
    }

    var reader: YAMLReader { loader.reader }

    mutating func decode(at keyNode: Node) -> ChannelConfiguration? {
        var common = ChannelConfiguration.Common()
        common.baseURL = text("base_url")
        common.rate = number("rate")
        common.recipientInterval = number("recipient_interval")
        let configuration: ChannelConfiguration?
        switch type {
        case "twilio":
            let sid = required("account_sid", at: keyNode)
            let token = required("auth_token", at: keyNode)
            let from = text("from")
            let service = text("messaging_service_sid")
            if from == nil, service == nil, values["from"] == nil, values["messaging_service_sid"] == nil {
                reader.error("channel '\(channel)' (twilio) needs 'from' or 'messaging_service_sid'", at: keyNode)
                failed = true
            }
            let statusCallback = text("status_callback")
            let whatsapp = bool("whatsapp")
            let smart = bool("smart_encoding")
            let replies = replyKeywords()
            guard let sid, let token else { return nil }
            configuration = .twilio(
                .init(
                    accountSID: sid, authToken: token, from: from, messagingServiceSID: service,
                    statusCallback: statusCallback, whatsapp: whatsapp, smartEncoding: smart, replies: replies,
                    common: common))
        case "whatsapp-cloud":
            let id = required("phone_number_id", at: keyNode)
            let token = required("token", at: keyNode)
            let version = text("version") ?? "v23.0"
            let appSecret = receiptSecret("app_secret")
            let verifyToken = receiptSecret("verify_token")
            let replies = replyKeywords()
            guard let id, let token else { return nil }
            configuration = .whatsAppCloud(
                .init(
                    phoneNumberID: id, token: token, version: version, appSecret: appSecret, verifyToken: verifyToken,
                    replies: replies, common: common))
        default:
            let url = required("url", at: keyNode)
            let method = text("method")?.uppercased() ?? "POST"
            let headers = fields("headers")
            let body = fields("body")
            var format = ChannelConfiguration.HTTPGateway.Format.json
            if let node = values["format"], let written = reader.string(node, what: "format of channel '\(channel)'") {
                if let value = ChannelConfiguration.HTTPGateway.Format(rawValue: written) {
                    format = value
                } else {
                    reader.error("format of channel '\(channel)' must be json or form, found '\(written)'", at: node)
                    failed = true
                }
            }
            let smart = bool("smart_encoding")
            guard let url else { return nil }
            if let node = values["url"], !url.isEmpty,
                URL(string: url)?.scheme.map({ ["http", "https"].contains($0) }) != true
            {
                reader.error("url of channel '\(channel)' must be an http or https address, found '\(url)'", at: node)
                failed = true
            }
            configuration = .http(
                .init(
                    url: url, method: method, headers: headers, body: body, format: format, smartEncoding: smart,
                    common: common))
        }
        return failed ? nil : configuration
    }

    /// A required text value; reports its absence at the channel's name.
    mutating func required(_ key: String, at keyNode: Node) -> String? {
        guard values[key] != nil else {
            reader.error("channel '\(channel)' (\(type)) needs '\(key)'", at: keyNode)
            failed = true
            return nil
        }
        return text(key)
    }

    /// A text value, `${NAME}` expanded; nil when absent or not a single value (reported).
    mutating func text(_ key: String) -> String? {
        guard let node = values[key] else { return nil }
        guard let written = reader.string(node, what: "\(key) of channel '\(channel)'") else {
            failed = true
            return nil
        }
        let expanded = loader.expand(written, at: node, usedBy: "channel '\(channel)'")
        missing += expanded.missing
        return expanded.value
    }

    /// A text value only receipts use: an unset variable is reported like any other but does not
    /// hold the channel's messages (sending does not need it), and an empty value counts as unset.
    mutating func receiptSecret(_ key: String) -> String? {
        guard let node = values[key] else { return nil }
        guard let written = reader.string(node, what: "\(key) of channel '\(channel)'") else {
            failed = true
            return nil
        }
        let expanded = loader.expand(written, at: node, usedBy: "receipts of channel '\(channel)'")
        return expanded.missing.isEmpty && !expanded.value.isEmpty ? expanded.value : nil
    }

    /// `opt_out`, `opt_in` (a keyword or a list; each replaces its defaults) and `opt_out_scope`.
    mutating func replyKeywords() -> ReplyKeywords {
        let optOut = keywords("opt_out") ?? ReplyKeywords.defaultOptOut
        let optIn = keywords("opt_in") ?? ReplyKeywords.defaultOptIn
        guard let node = values["opt_out_scope"] else { return ReplyKeywords(optOut: optOut, optIn: optIn) }
        guard let written = reader.string(node, what: "opt_out_scope of channel '\(channel)'") else {
            failed = true
            return ReplyKeywords(optOut: optOut, optIn: optIn)
        }
        guard let scope = ReplyKeywords.Scope(rawValue: written) else {
            var message = "opt_out_scope of channel '\(channel)' must be all or channel, found '\(written)'"
            if let suggestion = Suggestion.closest(to: written, in: ReplyKeywords.Scope.allCases.map(\.rawValue)) {
                message += " (did you mean '\(suggestion)'?)"
            }
            reader.error(message, at: node)
            failed = true
            return ReplyKeywords(optOut: optOut, optIn: optIn)
        }
        return ReplyKeywords(optOut: optOut, optIn: optIn, scope: scope)
    }

    /// A keyword list; nil when absent (the defaults stand) or wrong (reported).
    mutating func keywords(_ key: String) -> [String]? {
        guard let node = values[key] else { return nil }
        guard let words = reader.strings(node, what: "\(key) of channel '\(channel)'") else {
            failed = true
            return nil
        }
        if let empty = words.first(where: { ReplyKeywords.fold($0).isEmpty }) {
            reader.error(
                "\(key) of channel '\(channel)': keyword '\(empty)' has nothing left to match once trimmed", at: node)
            failed = true
        }
        return words
    }

    mutating func number(_ key: String) -> Double? {
        guard let node = values[key] else { return nil }
        guard let value = reader.number(node, what: "\(key) of channel '\(channel)'") else {
            failed = true
            return nil
        }
        return value
    }

    mutating func bool(_ key: String) -> Bool {
        guard let node = values[key] else { return false }
        guard let value = reader.bool(node, what: "\(key) of channel '\(channel)'") else {
            failed = true
            return false
        }
        return value
    }

    /// A flat mapping of names to text values (headers, body), in file order.
    mutating func fields(_ key: String) -> [ChannelConfiguration.Field] {
        guard let node = values[key] else { return [] }
        guard let members = reader.mapping(node, what: "\(key) of channel '\(channel)'") else {
            failed = true
            return []
        }
        var fields: [ChannelConfiguration.Field] = []
        for member in members {
            guard let written = reader.string(member.value, what: "\(key).\(member.key) of channel '\(channel)'") else {
                failed = true
                continue
            }
            let expanded = loader.expand(written, at: member.value, usedBy: "channel '\(channel)'")
            missing += expanded.missing
            fields.append(.init(member.key, expanded.value))
        }
        return fields
    }
}
