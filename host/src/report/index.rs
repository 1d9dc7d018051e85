//! The index page of `aksflow test --report DIR`: a line per flow (name, verdict, duration,
//! seed, a link to its report) and the failing runs grouped by seed, each with the command
//! that reproduces it.

use std::collections::BTreeMap;

use minijinja::context;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct IndexEntry {
    pub flow: String,
    /// The flow file, as `aksflow run` takes it.
    pub path: String,
    pub passed: bool,
    pub seed: u64,
    /// `sim`, `azure` or a served simulator's URL.
    pub target: String,
    pub elapsed_ms: f64,
    /// The flow's report page, relative to the index.
    pub report: Option<String>,
    /// The first line of why it failed.
    pub failure: Option<String>,
}

#[derive(Debug, Serialize)]
struct SeedGroup<'a> {
    seed: u64,
    runs: Vec<(&'a IndexEntry, String)>,
}

/// The command that reruns one flow with one seed.
pub fn reproduce(e: &IndexEntry) -> String {
    let target = if e.target == "sim" { String::new() } else { format!(" --target {}", e.target) };
    format!("aksflow run {} --seed {}{target}", e.path, e.seed)
}

pub fn render_index(title: &str, entries: &[IndexEntry]) -> Result<String, String> {
    let mut by_seed: BTreeMap<u64, Vec<(&IndexEntry, String)>> = BTreeMap::new();
    for e in entries.iter().filter(|e| !e.passed) {
        by_seed.entry(e.seed).or_default().push((e, reproduce(e)));
    }
    let failing: Vec<SeedGroup> = by_seed.into_iter().map(|(seed, runs)| SeedGroup { seed, runs }).collect();
    let passed = entries.iter().filter(|e| e.passed).count();
    super::environment()
        .get_template("index.html")
        .and_then(|t| t.render(context! { title, entries, failing, passed, failed => entries.len() - passed }))
        .map_err(|e| format!("cannot render the index: {e:#}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(flow: &str, passed: bool, seed: u64) -> IndexEntry {
        IndexEntry { flow: flow.into(), path: format!("flows/{flow}.toml"), passed, seed, target: "sim".into(), elapsed_ms: 12.5, report: Some(format!("{flow}.html")), failure: (!passed).then(|| "step `x`: <Forbidden>".into()) }
    }

    #[test]
    fn failing_runs_are_grouped_by_seed_with_the_command_that_reproduces_them() {
        let html = render_index("flows", &[entry("a", true, 1), entry("b", false, 3), entry("c", false, 1)]).unwrap();
        let page = scraper::Html::parse_document(&html);
        let texts = |css: &str| page.select(&scraper::Selector::parse(css).unwrap()).map(|e| e.text().collect::<String>()).collect::<Vec<_>>();
        assert_eq!(texts("#seed-1 code.reproduce"), ["aksflow run flows/c.toml --seed 1"]);
        assert_eq!(texts("#seed-3 code.reproduce"), ["aksflow run flows/b.toml --seed 3"]);
        assert_eq!(texts(".seed b"), ["seed 1", "seed 3"], "seeds in order");
        assert_eq!(texts("#flows tr td:first-child").len(), 3, "a line per flow");
        assert_eq!(page.select(&scraper::Selector::parse("a[href='a.html']").unwrap()).count(), 1);
        assert!(texts(".why").iter().all(|t| t.contains("step `x`: <Forbidden>")));
        assert!(!html.contains("<Forbidden>"), "escaped in the markup");
    }
}
