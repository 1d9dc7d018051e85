//! The machine's RSA floor, measured in the same run as the bench that compares with it:
//! `openssl speed -multi N rsa2048`, N the cores this process may use. Each simulated token
//! is one RSA-2048 signature, so no token service on this machine can beat this figure.

/// Signatures per second over every core, or `None` when openssl is not installed.
pub fn openssl_rsa2048_signs_per_sec() -> Option<f64> {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let out = std::process::Command::new("openssl").args(["speed", "-multi", &cores.to_string(), "-seconds", "3", "rsa2048"]).output().ok()?;
    // The last line: `rsa 2048 bits 0.000135s 0.000007s   7416.3 137705.7` (sign/s, verify/s).
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().rev().find(|l| l.starts_with("rsa 2048 bits"))?;
    line.split_whitespace().nth(5)?.parse().ok()
}

/// `n` per second, and its share of `floor`.
pub fn against(label: &str, rate: f64, floor: Option<f64>) {
    match floor {
        Some(f) => println!("{label}: {rate:.0}/s, {:.0}% of the openssl floor ({f:.0} signatures/s)", 100.0 * rate / f),
        None => println!("{label}: {rate:.0}/s (openssl not found: no floor to compare with)"),
    }
}
