//! Time: everything is held as UTC seconds since the Unix epoch (`Timestamp`).
//! Input must carry an offset (local time without one is ambiguous around the
//! daylight-saving change); display uses Dutch civil time (Europe/Amsterdam).

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, TimeZone, Utc, Weekday};

/// UTC seconds since 1970-01-01T00:00:00Z.
pub type Timestamp = i64;

/// Parses an ISO 8601 / RFC 3339 timestamp with an offset or `Z`.
/// A timestamp without an offset is refused with a message saying why.
pub fn parse_timestamp(s: &str) -> Result<Timestamp, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("expected an ISO 8601 timestamp with offset, found an empty value".into());
    }
    match DateTime::parse_from_rfc3339(t) {
        Ok(dt) => Ok(dt.timestamp()),
        Err(_) => {
            // Accept a space instead of 'T' and offsets without colon (+0100), common in exports.
            let alt = t.replacen(' ', "T", 1);
            for fmt in ["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z", "%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%:z"] {
                if let Ok(dt) = DateTime::parse_from_str(&alt, fmt) {
                    return Ok(dt.timestamp());
                }
            }
            if let Ok(dt) = DateTime::parse_from_rfc3339(&alt) {
                return Ok(dt.timestamp());
            }
            if chrono::NaiveDateTime::parse_from_str(&alt, "%Y-%m-%dT%H:%M:%S").is_ok()
                || chrono::NaiveDateTime::parse_from_str(&alt, "%Y-%m-%dT%H:%M").is_ok()
            {
                Err(format!(
                    "expected a timestamp with offset (e.g. 2025-03-10T14:20:00+01:00 or ...Z), found local time {t:?} without offset (ambiguous at daylight-saving changes)"
                ))
            } else {
                Err(format!("expected an ISO 8601 timestamp with offset such as 2025-03-10T14:20:00+01:00, found {t:?}"))
            }
        }
    }
}

/// Start (UTC) of Dutch summer time in `year`: last Sunday of March, 01:00 UTC.
fn summer_time_start(year: i32) -> Timestamp {
    last_sunday_utc(year, 3)
}
/// End (UTC) of Dutch summer time in `year`: last Sunday of October, 01:00 UTC.
fn summer_time_end(year: i32) -> Timestamp {
    last_sunday_utc(year, 10)
}
fn last_sunday_utc(year: i32, month: u32) -> Timestamp {
    let last = NaiveDate::from_ymd_opt(year, month + 1, 1).unwrap().pred_opt().unwrap();
    let back = (last.weekday().num_days_from_sunday()) as i64;
    let sunday = last - chrono::Duration::days(back);
    debug_assert_eq!(sunday.weekday(), Weekday::Sun);
    sunday.and_hms_opt(1, 0, 0).unwrap().and_utc().timestamp()
}

/// UTC offset of Europe/Amsterdam at the given instant, in seconds (3600 or 7200).
/// Written out (EU rule since 1996) instead of pulling in a time-zone database.
pub fn amsterdam_offset_s(t: Timestamp) -> i32 {
    let year = Utc.timestamp_opt(t, 0).single().map(|d| d.year()).unwrap_or(2000);
    if t >= summer_time_start(year) && t < summer_time_end(year) { 7200 } else { 3600 }
}

/// The instant in Dutch civil time.
pub fn to_amsterdam(t: Timestamp) -> DateTime<FixedOffset> {
    let off = FixedOffset::east_opt(amsterdam_offset_s(t)).unwrap();
    off.timestamp_opt(t, 0).single().unwrap()
}

/// Seconds since local (Amsterdam) midnight: for time-of-day selection (evening peak).
pub fn amsterdam_seconds_of_day(t: Timestamp) -> u32 {
    (t + amsterdam_offset_s(t) as i64).rem_euclid(86_400) as u32
}

/// RFC 3339 in Dutch civil time, e.g. `2025-03-10T14:20:00+01:00`.
pub fn format_amsterdam(t: Timestamp) -> String {
    to_amsterdam(t).format("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// RFC 3339 in UTC, e.g. `2025-03-10T13:20:00Z`.
pub fn format_utc(t: Timestamp) -> String {
    Utc.timestamp_opt(t, 0).single().unwrap().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_offsets_and_refuses_naive() {
        assert_eq!(parse_timestamp("2025-03-10T14:20:00+01:00").unwrap(), parse_timestamp("2025-03-10T13:20:00Z").unwrap());
        assert_eq!(parse_timestamp("2025-03-10 14:20:00+0100").unwrap(), parse_timestamp("2025-03-10T13:20:00Z").unwrap());
        let e = parse_timestamp("2025-03-10T14:20:00").unwrap_err();
        assert!(e.contains("without offset"), "{e}");
        assert!(parse_timestamp("yesterday").is_err());
    }

    #[test]
    fn amsterdam_dst() {
        // 2025: summer time from 30 March 01:00 UTC to 26 October 01:00 UTC.
        let before = parse_timestamp("2025-03-30T00:59:59Z").unwrap();
        let after = parse_timestamp("2025-03-30T01:00:00Z").unwrap();
        assert_eq!(amsterdam_offset_s(before), 3600);
        assert_eq!(amsterdam_offset_s(after), 7200);
        assert_eq!(amsterdam_offset_s(parse_timestamp("2025-10-26T00:59:59Z").unwrap()), 7200);
        assert_eq!(amsterdam_offset_s(parse_timestamp("2025-10-26T01:00:00Z").unwrap()), 3600);
        assert_eq!(format_amsterdam(after), "2025-03-30T03:00:00+02:00");
    }
}
