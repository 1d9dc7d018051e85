//! When the gateway sends a request again: on 429 and 503, honouring `Retry-After` in run
//! time (virtual against the simulator), up to a cap; without `Retry-After`, an exponential
//! back-off with jitter that comes from the run's seed and the request, never from a roll at
//! run time, so a run and its replay wait the same. After the last retry the gateway gives
//! up with an error that names the service, the attempts and the last answer.

use std::time::Duration;

use bytes::Bytes;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// The longest wait, whatever `Retry-After` asks (azure-core's maximum back-off).
    pub max_wait: Duration,
    /// The run's seed, for the jitter.
    pub seed: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { max_retries: 5, max_wait: Duration::from_secs(120), seed: 0 }
    }
}

impl RetryPolicy {
    /// Whether an answer is one the gateway retries.
    pub fn retryable(&self, resp: &http::Response<Bytes>) -> bool {
        matches!(resp.status().as_u16(), 429 | 503)
    }

    /// How long to wait before retry number `retries + 1` of the request to `path`, or `None`
    /// to keep this answer.
    pub fn wait_before_retry(&self, resp: &http::Response<Bytes>, retries: u32, path: &str) -> Option<Duration> {
        if retries >= self.max_retries || !self.retryable(resp) {
            return None;
        }
        Some(self.retry_after(resp, retries, path))
    }

    /// `Retry-After` in seconds; else 1, 2, 4, 8 … s, each between half and all of it, as the
    /// seed, the request and the attempt say.
    fn retry_after(&self, resp: &http::Response<Bytes>, attempt: u32, path: &str) -> Duration {
        let asked = resp.headers().get(http::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
        let wait = match asked {
            Some(s) => Duration::from_secs(s),
            None => {
                let full = Duration::from_secs(1 << attempt.min(6));
                full / 2 + full.mul_f64(aksflow_simulator::faults::unit(self.seed, path, u64::from(attempt)) / 2.0)
            }
        };
        wait.min(self.max_wait)
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
        assert_eq!(p.wait_before_retry(&answer(429, Some("7")), 0, "/x"), Some(Duration::from_secs(7)));
        assert_eq!(p.wait_before_retry(&answer(503, Some(" 2 ")), 3, "/x"), Some(Duration::from_secs(2)));
    }

    #[test]
    fn other_answers_are_kept() {
        let p = RetryPolicy::default();
        for status in [200, 201, 202, 400, 401, 403, 404, 409, 500, 502, 504] {
            assert_eq!(p.wait_before_retry(&answer(status, Some("1")), 0, "/x"), None, "{status}");
        }
    }

    #[test]
    fn without_retry_after_the_wait_doubles_with_seeded_jitter_and_a_cap() {
        let p = RetryPolicy { max_retries: 10, seed: 7, ..RetryPolicy::default() };
        for i in 0..9u32 {
            let full = Duration::from_secs(1 << i.min(6));
            let w = p.wait_before_retry(&answer(503, None), i, "/subscriptions/s").unwrap();
            assert!(w >= (full / 2).min(p.max_wait) && w <= full.min(p.max_wait), "attempt {i}: {w:?}");
            assert_eq!(Some(w), p.wait_before_retry(&answer(503, None), i, "/subscriptions/s"), "the same seed and request wait the same");
        }
        let other = RetryPolicy { seed: 8, ..p };
        let waits = |p: &RetryPolicy| (0..6).map(|i| p.wait_before_retry(&answer(503, None), i, "/a").unwrap()).collect::<Vec<_>>();
        assert_ne!(waits(&p), waits(&other), "another seed, another jitter");
        // An HTTP date is not a number of seconds: the back-off applies.
        assert!(p.wait_before_retry(&answer(429, Some("Wed, 21 Oct 2015 07:28:00 GMT")), 1, "/a").unwrap() <= Duration::from_secs(2));
    }

    /// The jitter is part of what a seed means (the waits show in transcripts' times): pinned.
    #[test]
    fn the_jitter_of_a_seed_is_pinned() {
        let p = RetryPolicy { max_retries: 10, seed: 7, ..RetryPolicy::default() };
        let waits: Vec<u128> = (0..6).map(|i| p.wait_before_retry(&answer(503, None), i, "/subscriptions/s").unwrap().as_millis()).collect();
        assert_eq!(waits, PINNED_WAITS_MS);
        let other_path: Vec<u128> = (0..6).map(|i| p.wait_before_retry(&answer(503, None), i, "/subscriptions/t").unwrap().as_millis()).collect();
        assert_ne!(waits, other_path, "another request, another jitter");
    }

    const PINNED_WAITS_MS: [u128; 6] = [580, 1287, 2498, 4438, 15395, 27837];

    #[test]
    fn a_huge_retry_after_is_capped() {
        let p = RetryPolicy::default();
        assert_eq!(p.wait_before_retry(&answer(429, Some("86400")), 0, "/x"), Some(Duration::from_secs(120)));
    }

    #[test]
    fn retries_stop_after_the_maximum() {
        let p = RetryPolicy::default();
        assert!(p.wait_before_retry(&answer(503, Some("1")), 4, "/x").is_some());
        assert_eq!(p.wait_before_retry(&answer(503, Some("1")), 5, "/x"), None);
    }
}
