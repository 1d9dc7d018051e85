//! wrk (<https://github.com/wg/wrk>, Debian's `wrk`) as a load client: a process of its own,
//! far lighter than reqwest, on the same cores as the server. Each of wrk's threads cycles
//! through its own share of a list of request bodies.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;

pub fn installed() -> bool {
    std::process::Command::new("wrk").arg("--version").output().is_ok()
}

/// What one wrk run measured.
pub struct Figures {
    pub requests_per_sec: f64,
    /// The window wrk measured over ("123456 requests in 5.01s").
    pub window_secs: f64,
}

/// The Lua script: POSTs of form bodies, each of `threads` threads cycling through its own
/// share of `bodies` (all of them when there is one).
fn script(bodies: &[String], threads: usize) -> String {
    let per = bodies.len().div_ceil(threads);
    let list: Vec<String> = bodies.iter().map(|b| format!("{b:?}")).collect();
    format!(
        "local bodies = {{ {} }}\n\
         local threads = 0\n\
         function setup(thread) thread:set(\"offset\", threads * {per}); threads = threads + 1 end\n\
         local n = 0\n\
         wrk.method = \"POST\"\n\
         wrk.headers[\"Content-Type\"] = \"application/x-www-form-urlencoded\"\n\
         function request() n = n + 1; return wrk.format(nil, nil, nil, bodies[(offset + n % {per}) % #bodies + 1]) end\n",
        list.join(", ")
    )
}

/// `wrk -t2 -c16 -d5s` posting `bodies` to `url`. The script (it may hold secrets) is
/// written to `script_path`, readable by this user alone. Fails with wrk's own complaint.
pub fn post(script_path: &Path, bodies: &[String], url: &str) -> Result<Figures, String> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(script_path)
        .and_then(|mut f| f.write_all(script(bodies, 2).as_bytes()))
        .map_err(|e| format!("cannot write {}: {e}", script_path.display()))?;
    let out = std::process::Command::new("wrk").args(["-t2", "-c16", "-d5s", "-s", script_path.to_str().unwrap(), url]).output().map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout);
    if text.contains("Non-2xx") || text.contains("Socket errors") {
        return Err(format!("wrk saw failed requests:\n{text}"));
    }
    let figures = (|| {
        let requests_per_sec = text.lines().find_map(|l| l.strip_prefix("Requests/sec:"))?.trim().parse().ok()?;
        let window_secs = text.lines().find_map(|l| l.split_once(" requests in ")?.1.split_once('s')?.0.parse().ok())?;
        Some(Figures { requests_per_sec, window_secs })
    })();
    // Its complaint (a script error, a refused connection), never the script.
    figures.ok_or_else(|| String::from_utf8_lossy(&out.stderr).lines().next().unwrap_or("no message").to_string())
}
