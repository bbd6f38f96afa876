//! When a title is held. A position's bounds may be known to the day, the month or
//! the year, or not at all; an unknown bound does not limit the period.

use chrono::{Datelike, NaiveDate};

/// The last day of the period a bound names: the day itself, the end of its month,
/// or the end of its year.
pub fn end_of_period(date: NaiveDate, precision: Option<&str>) -> NaiveDate {
    let last_of_month = |year: i32, month: u32| {
        let (next_year, next_month) = if month == 12 {
            (year + 1, 1)
        } else {
            (year, month + 1)
        };
        NaiveDate::from_ymd_opt(next_year, next_month, 1)
            .and_then(|first| first.pred_opt())
            .unwrap_or(date)
    };
    match precision {
        Some("year") => last_of_month(date.year(), 12),
        Some("month") => last_of_month(date.year(), date.month()),
        _ => date,
    }
}

/// Whether a position with these bounds is held on `day`.
pub fn held_on(
    starts_on: Option<NaiveDate>,
    ends_on: Option<NaiveDate>,
    end_precision: Option<&str>,
    day: NaiveDate,
) -> bool {
    // A start is stored as the first day of its period, so it compares as it is.
    let started = starts_on.is_none_or(|start| start <= day);
    let not_ended = ends_on.is_none_or(|end| day <= end_of_period(end, end_precision));
    started && not_ended
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    #[test]
    fn a_bound_known_to_the_year_covers_the_whole_year() {
        let (start, end) = (Some(d(2016, 1, 1)), Some(d(2021, 1, 1)));
        assert!(held_on(start, end, Some("year"), d(2017, 8, 2)));
        assert!(held_on(start, end, Some("year"), d(2021, 12, 31)));
        assert!(!held_on(start, end, Some("year"), d(2022, 1, 1)));
        assert!(!held_on(start, end, Some("year"), d(2015, 12, 31)));
    }

    #[test]
    fn month_and_day_precision() {
        assert_eq!(end_of_period(d(2024, 2, 1), Some("month")), d(2024, 2, 29));
        assert_eq!(end_of_period(d(2024, 2, 10), Some("day")), d(2024, 2, 10));
        assert!(!held_on(
            None,
            Some(d(2024, 2, 10)),
            Some("day"),
            d(2024, 2, 11)
        ));
    }

    #[test]
    fn unknown_bounds_do_not_limit() {
        assert!(held_on(None, None, None, d(2017, 8, 2)));
    }
}
