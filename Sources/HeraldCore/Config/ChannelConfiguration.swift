import Foundation

/// A channel's settings in rules.yaml, decoded by type: one struct per channel client.
///
/// Decoded once by the rules loader, with an error at the line and column of any unknown key,
/// missing required key or wrong type; `${NAME}` values are expanded (an unset variable expands
/// to nothing and is listed in `RuleSet.Channel.missing`, which holds the channel's messages).
public enum ChannelConfiguration: Sendable, Equatable {
    case twilio(Twilio)
    case whatsAppCloud(WhatsAppCloud)
    case http(HTTPGateway)

    /// The names `type:` accepts, in the order error messages list them.
    public static let types = ["twilio", "whatsapp-cloud", "http"]

    /// The `type:` written in rules.yaml.
    public var type: String {
        switch self {
        case .twilio: "twilio"
        case .whatsAppCloud: "whatsapp-cloud"
        case .http: "http"
        }
    }

    /// The settings every channel type takes.
    public var common: Common {
        switch self {
        case .twilio(let c): c.common
        case .whatsAppCloud(let c): c.common
        case .http(let c): c.common
        }
    }

    /// Whether texts are sent as SMS (so their encoding and segments matter).
    public var isWhatsAppCloud: Bool {
        if case .whatsAppCloud = self { return true }
        return false
    }

    /// Settings shared by every channel type.
    public struct Common: Sendable, Equatable {
        /// Replaces the provider's API address (staging, a local fake).
        public var baseURL: String?
        /// Messages per second; nil: no limit.
        public var rate: Double?
        /// Seconds between two messages to one recipient; nil: the type's default.
        public var recipientInterval: Double?

        public init(baseURL: String? = nil, rate: Double? = nil, recipientInterval: Double? = nil) {
            self.baseURL = baseURL
            self.rate = rate
            self.recipientInterval = recipientInterval
        }
    }

    /// `type: twilio`: Twilio Programmable Messaging.
    public struct Twilio: Sendable, Equatable {
        public var accountSID: String
        public var authToken: String
        /// The sending number; either this or `messagingServiceSID` is required.
        public var from: String?
        public var messagingServiceSID: String?
        public var statusCallback: String?
        /// Sends through Twilio's WhatsApp sender (`whatsapp:` addresses).
        public var whatsapp: Bool
        /// Swaps typographic quotes and dashes for GSM-7 ones so a text stays GSM-7.
        public var smartEncoding: Bool
        /// What inbound replies opt a number out or in (`opt_out`, `opt_in`, `opt_out_scope`).
        public var replies: ReplyKeywords
        public var common: Common

        public init(
            accountSID: String, authToken: String, from: String? = nil, messagingServiceSID: String? = nil,
            statusCallback: String? = nil, whatsapp: Bool = false, smartEncoding: Bool = false,
            replies: ReplyKeywords = ReplyKeywords(), common: Common = Common()
        ) {
            self.accountSID = accountSID
            self.authToken = authToken
            self.from = from
            self.messagingServiceSID = messagingServiceSID
            self.statusCallback = statusCallback
            self.whatsapp = whatsapp
            self.smartEncoding = smartEncoding
            self.replies = replies
            self.common = common
        }

        static let keys =
            [
                "account_sid", "auth_token", "from", "messaging_service_sid", "status_callback", "whatsapp",
                "smart_encoding",
            ] + ReplyKeywords.keys
    }

    /// `type: whatsapp-cloud`: Meta's WhatsApp Cloud API.
    public struct WhatsAppCloud: Sendable, Equatable {
        public var phoneNumberID: String
        public var token: String
        /// The Graph API version.
        public var version: String
        /// The Meta app's secret, which signs receipts (`X-Hub-Signature-256`); nil when not set
        /// (receipts cannot be checked, sending is unaffected).
        public var appSecret: String?
        /// What Meta's subscribe handshake must present (`hub.verify_token`); nil when not set.
        public var verifyToken: String?
        /// What inbound replies opt a number out or in (`opt_out`, `opt_in`, `opt_out_scope`).
        public var replies: ReplyKeywords
        public var common: Common

        public init(
            phoneNumberID: String, token: String, version: String = "v23.0", appSecret: String? = nil,
            verifyToken: String? = nil, replies: ReplyKeywords = ReplyKeywords(), common: Common = Common()
        ) {
            self.phoneNumberID = phoneNumberID
            self.token = token
            self.version = version
            self.appSecret = appSecret
            self.verifyToken = verifyToken
            self.replies = replies
            self.common = common
        }

        static let keys = ["phone_number_id", "token", "version", "app_secret", "verify_token"] + ReplyKeywords.keys
    }

    /// `type: http`: a generic SMS gateway that takes one request per message.
    public struct HTTPGateway: Sendable, Equatable {
        public enum Format: String, Sendable, Equatable { case json, form }

        public var url: String
        public var method: String
        /// Header name and value, in file order.
        public var headers: [Field]
        /// Body field and value (Mustache over `to`, `text`, `locale`, `idempotency_key`), in file order;
        /// empty: `to` and `text`.
        public var body: [Field]
        public var format: Format
        public var smartEncoding: Bool
        public var common: Common

        public init(
            url: String, method: String = "POST", headers: [Field] = [], body: [Field] = [], format: Format = .json,
            smartEncoding: Bool = false, common: Common = Common()
        ) {
            self.url = url
            self.method = method
            self.headers = headers
            self.body = body
            self.format = format
            self.smartEncoding = smartEncoding
            self.common = common
        }

        static let keys = ["url", "method", "headers", "body", "format", "smart_encoding"]
    }

    /// A name and its value, as a header or a body field.
    public struct Field: Sendable, Equatable {
        public var name: String
        public var value: String

        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    static let commonKeys = ["type", "base_url", "rate", "recipient_interval"]

    /// Every key a channel of `type` accepts.
    static func keys(for type: String) -> [String] {
        switch type {
        case "twilio": commonKeys + Twilio.keys
        case "whatsapp-cloud": commonKeys + WhatsAppCloud.keys
        case "http": commonKeys + HTTPGateway.keys
        default: commonKeys
        }
    }

    /// The keywords replies on this channel are read by; nil for a channel that takes no replies.
    public var replyKeywords: ReplyKeywords? {
        switch self {
        case .twilio(let c): c.replies
        case .whatsAppCloud(let c): c.replies
        case .http: nil
        }
    }

    /// Whether texts on this channel have GSM typography swapped (`smart_encoding: true`).
    public var smartEncoding: Bool {
        switch self {
        case .twilio(let c): c.smartEncoding
        case .http(let c): c.smartEncoding
        case .whatsAppCloud: false
        }
    }
}
