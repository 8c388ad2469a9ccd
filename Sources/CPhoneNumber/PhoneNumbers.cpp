// libphonenumber behind the C functions of include/CPhoneNumber.h.
#include "CPhoneNumber.h"

#include <phonenumbers/phonenumberutil.h>
#include <unicode/ucal.h>
#include <unicode/uenum.h>

#include <cstring>
#include <string>

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

#define HERALD_SAME_TYPE(ours, theirs) \
    static_assert(static_cast<int>(ours) == static_cast<int>(PhoneNumberUtil::theirs), #theirs)
HERALD_SAME_TYPE(HeraldPhoneTypeFixedLine, FIXED_LINE);
HERALD_SAME_TYPE(HeraldPhoneTypeMobile, MOBILE);
HERALD_SAME_TYPE(HeraldPhoneTypeFixedLineOrMobile, FIXED_LINE_OR_MOBILE);
HERALD_SAME_TYPE(HeraldPhoneTypeTollFree, TOLL_FREE);
HERALD_SAME_TYPE(HeraldPhoneTypePremiumRate, PREMIUM_RATE);
HERALD_SAME_TYPE(HeraldPhoneTypeSharedCost, SHARED_COST);
HERALD_SAME_TYPE(HeraldPhoneTypeVoIP, VOIP);
HERALD_SAME_TYPE(HeraldPhoneTypePersonalNumber, PERSONAL_NUMBER);
HERALD_SAME_TYPE(HeraldPhoneTypePager, PAGER);
HERALD_SAME_TYPE(HeraldPhoneTypeUAN, UAN);
HERALD_SAME_TYPE(HeraldPhoneTypeVoicemail, VOICEMAIL);
HERALD_SAME_TYPE(HeraldPhoneTypeUnknown, UNKNOWN);

namespace {

void copy(const std::string &text, char *buffer, size_t capacity) {
    size_t length = text.size() < capacity - 1 ? text.size() : capacity - 1;
    std::memcpy(buffer, text.data(), length);
    buffer[length] = '\0';
}

void fail(HeraldPhoneResult *result, HeraldPhoneStatus status, const std::string &region = "") {
    result->status = status;
    result->type = HeraldPhoneTypeUnknown;
    result->e164[0] = '\0';
    copy(region, result->region, sizeof result->region);
}

/// Sets `result` from a parsed number: valid when libphonenumber gives it a type. (IsValidNumber
/// is exactly "the number's region has metadata and its type is not UNKNOWN", so asking for the
/// type alone saves matching the number against the region's patterns twice.)
bool classify(const PhoneNumberUtil &util, const PhoneNumber &number, HeraldPhoneResult *result) {
    PhoneNumberUtil::PhoneNumberType type = util.GetNumberType(number);
    if (type == PhoneNumberUtil::UNKNOWN) return false;
    std::string region;
    util.GetRegionCodeForNumber(number, &region);
    std::string e164;
    util.Format(number, PhoneNumberUtil::E164, &e164);
    result->status = HeraldPhoneStatusValid;
    result->type = static_cast<HeraldPhoneType>(type);
    copy(e164, result->e164, sizeof result->e164);
    copy(region, result->region, sizeof result->region);
    return true;
}

/// `+` then digits only, the national part not starting with 0: read without Parse's
/// normalization and extraction passes. Returns false to let Parse decide.
bool classifyE164(const PhoneNumberUtil &util, const char *text, size_t length, HeraldPhoneResult *result) {
    if (length < 3 || length > 16 || text[0] != '+' || text[1] == '0') return false;
    for (size_t i = 1; i < length; i++) {
        if (text[i] < '0' || text[i] > '9') return false;
    }
    // Calling codes are prefix-free: at most one of the first 1, 2 or 3 digits is assigned.
    int code = 0;
    for (size_t digits = 1; digits <= 3 && digits + 1 < length; digits++) {
        code = code * 10 + (text[digits] - '0');
        std::string region;
        util.GetRegionCodeForCountryCode(code, &region);
        if (region == "ZZ") continue;
        if (text[digits + 1] == '0') return false;  // a leading zero kept in E.164 (Italy): Parse knows
        uint64_t national = 0;
        for (size_t i = digits + 1; i < length; i++) national = national * 10 + static_cast<uint64_t>(text[i] - '0');
        PhoneNumber number;
        number.set_country_code(code);
        number.set_national_number(national);
        return classify(util, number, result);
    }
    return false;
}

}  // namespace

extern "C" void herald_phone_parse(
    const char *text, size_t length, const char *default_region, HeraldPhoneResult *result) {
    const PhoneNumberUtil &util = *PhoneNumberUtil::GetInstance();
    if (classifyE164(util, text, length, result)) return;

    char upper[3] = {'Z', 'Z', '\0'};
    if (default_region != nullptr && default_region[0] != '\0' && default_region[1] != '\0' && default_region[2] == '\0') {
        upper[0] = static_cast<char>(default_region[0] & ~0x20);
        upper[1] = static_cast<char>(default_region[1] & ~0x20);
    }
    const std::string region(upper);
    const std::string input(text, length);
    PhoneNumber number;
    switch (util.Parse(input, region, &number)) {
    case PhoneNumberUtil::NO_PARSING_ERROR: break;
    case PhoneNumberUtil::NOT_A_NUMBER: return fail(result, HeraldPhoneStatusNotANumber);
    case PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR:
        return fail(result, util.GetCountryCodeForRegion(region) == 0 ? HeraldPhoneStatusUnknownCountry
                                                                      : HeraldPhoneStatusUnknownCountryCode);
    case PhoneNumberUtil::TOO_LONG_NSN: return fail(result, HeraldPhoneStatusTooLong);
    case PhoneNumberUtil::TOO_SHORT_AFTER_IDD:
    case PhoneNumberUtil::TOO_SHORT_NSN: return fail(result, HeraldPhoneStatusInvalid, region);
    }
    if (classify(util, number, result)) return;

    const bool readNationally = number.country_code() == util.GetCountryCodeForRegion(region);
    // An international number written without its "+" (`212680980068` in a Kuwaiti payload):
    // too long to be national, so read it again as international.
    if (readNationally && input.find('+') == std::string::npos &&
        util.IsPossibleNumberWithReason(number) == PhoneNumberUtil::TOO_LONG) {
        PhoneNumber international;
        if (util.Parse("+" + input, "ZZ", &international) == PhoneNumberUtil::NO_PARSING_ERROR &&
            classify(util, international, result))
            return;
    }
    std::string numberRegion = region;
    if (!readNationally) util.GetRegionCodeForCountryCode(number.country_code(), &numberRegion);
    fail(result, HeraldPhoneStatusInvalid, numberRegion);
}

extern "C" size_t herald_phone_region_time_zone(const char *region, char *buffer, size_t capacity) {
    UErrorCode status = U_ZERO_ERROR;
    UEnumeration *zones = ucal_openTimeZoneIDEnumeration(UCAL_ZONE_TYPE_CANONICAL_LOCATION, region, nullptr, &status);
    if (U_FAILURE(status)) return 0;
    int32_t count = uenum_count(zones, &status);
    size_t written = 0;
    if (U_SUCCESS(status) && count == 1) {
        int32_t length = 0;
        const char *zone = uenum_next(zones, &length, &status);
        if (U_SUCCESS(status) && zone != nullptr && static_cast<size_t>(length) < capacity) {
            std::memcpy(buffer, zone, static_cast<size_t>(length));
            buffer[length] = '\0';
            written = static_cast<size_t>(length);
        }
    }
    uenum_close(zones);
    return written;
}
