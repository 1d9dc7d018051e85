//! When the gateway sends a request again: on 429 and 503, honouring `Retry-After` in run
//! time (virtual against the simulator), a few times, then the last answer stands.

use std::time::Duration;

use bytes::Bytes;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// The longest `Retry-After` honoured.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { max_retries: 4, max_wait: Duration::from_secs(300) }
    }
}

impl RetryPolicy {
    /// How long to wait before retry number `retries + 1`, or `None` to keep this answer.
    pub fn wait_before_retry(&self, resp: &http::Response<Bytes>, retries: u32) -> Option<Duration> {
        if retries >= self.max_retries || !matches!(resp.status().as_u16(), 429 | 503) {
            return None;
        }
        Some(self.retry_after(resp, retries))
    }

    /// `Retry-After` in seconds, or an exponential fallback (1, 2, 4, 8 s).
    fn retry_after(&self, resp: &http::Response<Bytes>, attempt: u32) -> Duration {
        resp.headers()
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|s| Duration::from_secs(s).min(self.max_wait))
            .unwrap_or_else(|| Duration::from_secs(1 << attempt.min(6)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, retry_after: Option<&str>) -> http::Response<Bytes> {
        let mut b = http::Response::builder().status(status);
        if let Some(v) = retry_after {
            b = b.header(http::header::RETRY_AFTER, v);
        }
        b.body(Bytes::new()).unwrap()
    }

    #[test]
    fn throttling_and_unavailable_are_retried_after_the_time_the_service_asks() {
        let p = RetryPolicy::default();
        assert_eq!(p.wait_before_retry(&answer(429, Some("7")), 0), Some(Duration::from_secs(7)));
        assert_eq!(p.wait_before_retry(&answer(503, Some(" 2 ")), 3), Some(Duration::from_secs(2)));
    }

    #[test]
    fn other_answers_are_kept() {
        let p = RetryPolicy::default();
        for status in [200, 201, 202, 400, 401, 403, 404, 409, 500, 502, 504] {
            assert_eq!(p.wait_before_retry(&answer(status, Some("1")), 0), None, "{status}");
        }
    }

    #[test]
    fn without_retry_after_the_wait_doubles_from_one_second() {
        let p = RetryPolicy { max_retries: 10, ..RetryPolicy::default() };
        let waits: Vec<u64> = (0..8).map(|i| p.wait_before_retry(&answer(503, None), i).unwrap().as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 64]);
        // An HTTP date is not a number of seconds: the fallback applies.
        assert_eq!(p.wait_before_retry(&answer(429, Some("Wed, 21 Oct 2015 07:28:00 GMT")), 1), Some(Duration::from_secs(2)));
    }

    #[test]
    fn a_huge_retry_after_is_capped() {
        let p = RetryPolicy::default();
        assert_eq!(p.wait_before_retry(&answer(429, Some("86400")), 0), Some(Duration::from_secs(300)));
    }

    #[test]
    fn retries_stop_after_the_maximum() {
        let p = RetryPolicy::default();
        assert!(p.wait_before_retry(&answer(503, Some("1")), 3).is_some());
        assert_eq!(p.wait_before_retry(&answer(503, Some("1")), 4), None);
    }
}
