//! The run's clock: virtual against the simulator (waits advance it, nothing sleeps), real
//! against Azure (waits are real waits).

use std::time::Duration;

use aksflow_simulator::VirtualClock;
/// The instant a virtual clock starts at (and `describe` runs at).
pub use aksflow_simulator::clock::EPOCH_MS;

#[derive(Clone, Debug)]
pub enum RunClock {
    Virtual(VirtualClock),
    Real,
}

impl RunClock {
    pub fn now_ms(&self) -> i64 {
        match self {
            RunClock::Virtual(c) => c.now_ms(),
            RunClock::Real => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0),
        }
    }

    pub async fn sleep(&self, d: Duration) {
        match self {
            RunClock::Virtual(c) => c.advance(d),
            RunClock::Real => tokio::time::sleep(d).await,
        }
    }

    pub fn is_virtual(&self) -> bool {
        matches!(self, RunClock::Virtual(_))
    }

    /// RFC 3339 with milliseconds, as transcripts write time.
    pub fn stamp(&self) -> String {
        let ms = self.now_ms();
        let t = time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        let f = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
        t.format(&f).unwrap_or_default()
    }
}

/// Seconds since the Unix epoch on the machine's clock: for live paths only (`get-token`'s
/// cache), never for simulated ones.
pub fn wall_secs() -> i64 {
    RunClock::Real.now_ms() / 1000
}
