//! The run's virtual clock. Nothing in the simulator reads the wall clock: token lifetimes,
//! long-running operations and Retry-After waits all move this clock instead.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use time::OffsetDateTime;

/// Where every run's clock starts: 2026-01-01T00:00:00Z.
pub const EPOCH_MS: i64 = 1_767_225_600_000;

/// A shared clock in milliseconds since the Unix epoch. Cloning shares it.
#[derive(Clone, Debug)]
pub struct VirtualClock {
    now_ms: Arc<AtomicI64>,
}

impl Default for VirtualClock {
    fn default() -> Self {
        Self::starting_at(EPOCH_MS)
    }
}

impl VirtualClock {
    pub fn starting_at(ms: i64) -> Self {
        VirtualClock { now_ms: Arc::new(AtomicI64::new(ms)) }
    }

    pub fn now_ms(&self) -> i64 {
        self.now_ms.load(Ordering::SeqCst)
    }

    /// Seconds since the Unix epoch, as JWT `iat`/`exp` count them.
    pub fn now_secs(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    pub fn now(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(self.now_ms() as i128 * 1_000_000)
            .expect("the virtual clock stays within OffsetDateTime's range")
    }

    pub fn advance(&self, by: Duration) {
        self.now_ms.fetch_add(by.as_millis() as i64, Ordering::SeqCst);
    }

    /// Moves the clock to `ms` (restoring a saved run). Never moves it backwards.
    pub fn set_ms(&self, ms: i64) {
        self.now_ms.fetch_max(ms, Ordering::SeqCst);
    }
}

/// `2026-01-01T00:00:00Z`, as ARM and Kubernetes write times.
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).expect("RFC 3339 formatting of a valid time")
}

/// [`rfc3339`] of milliseconds since the Unix epoch.
pub fn rfc3339_ms(ms: i64) -> String {
    rfc3339(OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH))
}

/// `2026-01-01 00:00:00Z`, as Entra ID writes the timestamp of an error.
pub fn aad_timestamp(t: OffsetDateTime) -> String {
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]Z");
    t.format(&f).expect("formatting a valid time")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_at_the_fixed_epoch_and_advances_only_when_told() {
        let c = VirtualClock::default();
        assert_eq!(rfc3339(c.now()), "2026-01-01T00:00:00Z");
        c.advance(Duration::from_secs(3600));
        assert_eq!(aad_timestamp(c.now()), "2026-01-01 01:00:00Z");
        let shared = c.clone();
        shared.advance(Duration::from_millis(1500));
        assert_eq!(c.now_secs(), EPOCH_MS / 1000 + 3601);
    }

    #[test]
    fn set_never_goes_backwards() {
        let c = VirtualClock::default();
        c.set_ms(EPOCH_MS - 10);
        assert_eq!(c.now_ms(), EPOCH_MS);
        c.set_ms(EPOCH_MS + 10);
        assert_eq!(c.now_ms(), EPOCH_MS + 10);
    }
}

/// ARM's diagnostic timestamp: `20260101T000000Z`.
pub fn arm_diagnostic_timestamp(t: OffsetDateTime) -> String {
    format!("{:04}{:02}{:02}T{:02}{:02}{:02}Z", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute(), t.second())
}

/// `500ms`, `30s`, `2m`, `1h`: a duration as a person writes it.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().map_err(|_| format!("`{s}` is not a duration like 30s"))?;
    let d = match unit {
        "ms" => Some(Duration::from_millis(n)),
        "s" => Some(Duration::from_secs(n)),
        "m" => n.checked_mul(60).map(Duration::from_secs),
        "h" => n.checked_mul(3600).map(Duration::from_secs),
        _ => return Err(format!("`{s}`: use a duration like 500ms, 30s, 2m or 1h")),
    };
    match d {
        Some(d) if d <= MAX_DURATION => Ok(d),
        _ => Err(format!("`{s}` is longer than the longest duration a run may name, {} days", MAX_DURATION.as_secs() / 86_400)),
    }
}

/// The longest duration a flow may name: a year.
pub const MAX_DURATION: Duration = Duration::from_secs(366 * 86_400);

#[cfg(test)]
mod duration_tests {
    use super::*;

    #[test]
    fn durations_parse_and_absurd_ones_are_refused() {
        assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
        assert!(parse_duration("100000000h").unwrap_err().contains("366 days"));
        assert!(parse_duration("18446744073709551615m").unwrap_err().contains("366 days"));
        assert!(parse_duration("99999999999999999999s").unwrap_err().contains("not a duration"));
    }
}
