//! Date-times for deprecation notices: a TOML offset date-time or an RFC 3339 string, as Unix
//! seconds.

use toml::value::{Datetime, Offset};

const HELP: &str = "write an RFC 3339 date-time with a UTC offset, e.g. `2025-01-01T00:00:00Z`";

/// Unix seconds of a TOML date-time or RFC 3339 string. On a problem returns the message and the
/// help.
pub(super) fn unix_seconds(value: &toml::Value) -> Result<i64, (String, String)> {
    let datetime = match value {
        toml::Value::Datetime(d) => *d,
        toml::Value::String(s) => s
            .parse::<Datetime>()
            .map_err(|e| (format!("invalid date-time `{s}`: {e}"), HELP.to_owned()))?,
        other => {
            return Err((
                format!("expected a date-time, found {}", other.type_str()),
                HELP.to_owned(),
            ));
        }
    };
    let (Some(date), Some(time), Some(offset)) = (datetime.date, datetime.time, datetime.offset)
    else {
        let message = format!("date-time `{datetime}` needs a date, a time and a UTC offset");
        return Err((message, HELP.to_owned()));
    };
    let offset_minutes = match offset {
        Offset::Z => 0,
        Offset::Custom { minutes } => i64::from(minutes),
    };
    let days = days_from_civil(
        i64::from(date.year),
        i64::from(date.month),
        i64::from(date.day),
    );
    let seconds_of_day = i64::from(time.hour) * 3600
        + i64::from(time.minute) * 60
        + i64::from(time.second.unwrap_or(0));
    Ok(days * 86_400 + seconds_of_day - offset_minutes * 60)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12; // March = 0
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seconds(text: &str) -> Result<i64, (String, String)> {
        let table: toml::Table = toml::from_str(&format!("t = {text}")).unwrap();
        unix_seconds(&table["t"])
    }

    #[test]
    fn converts_toml_date_times_and_rfc3339_strings() {
        assert_eq!(seconds("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(seconds("2025-01-01T00:00:00Z"), Ok(1_735_689_600));
        assert_eq!(seconds("\"2026-06-30T00:00:00Z\""), Ok(1_782_777_600));
        assert_eq!(seconds("2000-02-29T12:30:15+02:00"), Ok(951_820_215));
        assert_eq!(seconds("1969-12-31T23:59:59Z"), Ok(-1));
    }

    #[test]
    fn rejects_date_times_without_an_offset() {
        assert!(
            seconds("2025-01-01")
                .unwrap_err()
                .0
                .contains("needs a date, a time and a UTC offset")
        );
        assert!(seconds("2025-01-01T00:00:00").is_err());
        assert!(
            seconds("\"soon\"")
                .unwrap_err()
                .0
                .starts_with("invalid date-time `soon`")
        );
        assert_eq!(
            seconds("3").unwrap_err().0,
            "expected a date-time, found integer"
        );
    }
}
