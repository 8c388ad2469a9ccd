// A C view of Google's libphonenumber (and of ICU's country time zones) for HeraldCore.
// The library itself is C++; Swift sees only these plain functions and structs.
#ifndef HERALD_CPHONENUMBER_H
#define HERALD_CPHONENUMBER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// How reading a phone number ended.
typedef enum HeraldPhoneStatus {
    /// A valid number: `e164`, `region` and `type` are set.
    HeraldPhoneStatusValid = 0,
    /// No digits to read (empty, or words).
    HeraldPhoneStatusNotANumber = 1,
    /// Written without a country code, and no default region or one libphonenumber does not know.
    HeraldPhoneStatusUnknownCountry = 2,
    /// More digits than any phone number has.
    HeraldPhoneStatusTooLong = 3,
    /// Read, but not a number of `region` (too short, wrong length, unassigned range): `region` is set.
    HeraldPhoneStatusInvalid = 4,
    /// Written with `+` or `00` and a country code no country has.
    HeraldPhoneStatusUnknownCountryCode = 5,
} HeraldPhoneStatus;

/// libphonenumber's PhoneNumberUtil::PhoneNumberType, value for value (checked in the .cpp).
typedef enum HeraldPhoneType {
    HeraldPhoneTypeFixedLine = 0,
    HeraldPhoneTypeMobile = 1,
    HeraldPhoneTypeFixedLineOrMobile = 2,
    HeraldPhoneTypeTollFree = 3,
    HeraldPhoneTypePremiumRate = 4,
    HeraldPhoneTypeSharedCost = 5,
    HeraldPhoneTypeVoIP = 6,
    HeraldPhoneTypePersonalNumber = 7,
    HeraldPhoneTypePager = 8,
    HeraldPhoneTypeUAN = 9,
    HeraldPhoneTypeVoicemail = 10,
    HeraldPhoneTypeUnknown = 11,
} HeraldPhoneType;

typedef struct HeraldPhoneResult {
    HeraldPhoneStatus status;
    HeraldPhoneType type;
    /// NUL-terminated E.164 (`+212661234567`) when valid.
    char e164[24];
    /// NUL-terminated ISO region: the number's when valid, the one it was read in when invalid.
    char region[4];
} HeraldPhoneResult;

/// Reads `length` bytes of UTF-8 as a phone number, national numbers in `default_region`
/// (ISO code such as "MA"; NULL or "ZZ" for none). Thread-safe.
void herald_phone_parse(const char *text, size_t length, const char *default_region, HeraldPhoneResult *result);

/// Writes the single canonical time zone of ISO `region` (NUL-terminated) into `buffer` and
/// returns its length; returns 0 when ICU knows no zone, or several, for the region.
size_t herald_phone_region_time_zone(const char *region, char *buffer, size_t capacity);

#ifdef __cplusplus
}
#endif

#endif
