//! The machine's RSA floor, measured in the same run as the bench that compares with it:
//! `openssl speed -multi N rsa2048`, N the cores this process may use. Each simulated token
//! is one RSA-2048 signature, so no token service on this machine can beat this figure.
//!
//! A shared machine's speed drifts by several percent within a minute (seen here: 2,639 to
//! 2,963 signatures/s in four runs back to back), so each figure is compared with the floor
//! measured just before and just after it, not with one taken at the start of the run.

/// Signatures per second over `cores` cores (`-multi`; one core without it), or `None` when
/// openssl is not installed. A core alone may run faster than each of several busy ones
/// (boost clocks, a shared physical core).
pub fn openssl_rsa2048_on(cores: usize) -> Option<f64> {
    let mut args = vec!["speed".to_string(), "-seconds".into(), "3".into()];
    if cores > 1 {
        args.extend(["-multi".to_string(), cores.to_string()]);
    }
    args.push("rsa2048".into());
    let out = std::process::Command::new("openssl").args(&args).output().ok()?;
    // The last line: `rsa 2048 bits 0.000135s 0.000007s   7416.3 137705.7` (sign/s, verify/s).
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().rev().find(|l| l.starts_with("rsa 2048 bits"))?;
    line.split_whitespace().nth(5)?.parse().ok()
}

/// The cores this process may use (openssl's `-multi`).
pub fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// The floor on both sides of one measurement.
#[derive(Clone, Copy)]
pub struct Floor {
    pub before: f64,
    pub after: f64,
}

impl Floor {
    pub fn mean(&self) -> f64 {
        (self.before + self.after) / 2.0
    }
}

/// Runs `measure` between two measurements of the floor of `cores` cores. The floor is
/// `None` without openssl.
pub fn around<T>(cores: usize, measure: impl FnOnce() -> T) -> (T, Option<Floor>) {
    let before = openssl_rsa2048_on(cores);
    let out = measure();
    let floor = before.zip(openssl_rsa2048_on(cores)).map(|(before, after)| Floor { before, after });
    (out, floor)
}

/// `n` per second, and its share of the floor measured around it.
#[allow(dead_code)] // the token bench's; the flow bench shares this file
pub fn against(label: &str, rate: f64, floor: Option<Floor>) {
    match floor {
        Some(f) => println!(
            "{label}: {rate:.0}/s, {:.0}% of the openssl floor ({:.0} signatures/s: {:.0} before, {:.0} after)",
            100.0 * rate / f.mean(),
            f.mean(),
            f.before,
            f.after
        ),
        None => println!("{label}: {rate:.0}/s (openssl not found: no floor to compare with)"),
    }
}
