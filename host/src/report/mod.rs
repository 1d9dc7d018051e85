//! The HTML run report: one self-contained page (styles, script and SVG inline, nothing
//! fetched) that shows a run as a sequence diagram of its calls, its steps as a DAG, each
//! call's request, response and decoded tokens on click, and for a failed run the failing
//! step first. `aksflow test --report` adds an index page with a line per flow.
//!
//! Pages are written by minijinja templates with HTML auto-escaping; call data reaches the
//! page's script as JSON through the engine's HTML-safe `tojson`.

mod calls;
pub mod capture;
mod diagram;
mod failure;
mod index;
pub mod model;
pub mod run_data;
mod steps;
pub mod tokens;

use std::collections::BTreeMap;

use minijinja::{Environment, context};

pub use capture::Capture;
pub use index::{IndexEntry, render_index};
pub use run_data::RunData;

use crate::transcript::Record;

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    // The `.html` names turn on HTML auto-escaping for everything the templates print.
    env.add_template("report.html", include_str!("report.html")).expect("the report template parses");
    env.add_template("index.html", include_str!("index.html")).expect("the index template parses");
    env
}

/// The report page for a transcript's records, with the run's results when there are some.
pub fn render(records: &[Record], run: Option<&RunData>) -> Result<String, String> {
    let diagram = model::build(records);
    let svg = diagram::layout(&diagram, records);
    let no_tokens = BTreeMap::new();
    let calls = calls::views(&diagram, records, run.map_or(&no_tokens, |r| &r.tokens));
    let graph = run.map(|r| steps::graph(r, &diagram, records));
    let failure = run.and_then(|r| failure::find(&r.report, &diagram, records));
    let title = run.map_or_else(|| "transcript".to_string(), |r| r.report.flow.clone());
    environment()
        .get_template("report.html")
        .and_then(|t| {
            t.render(context! {
                title,
                run => run.map(|r| &r.report),
                record_count => records.len(),
                svg,
                graph,
                failure,
                calls,
                box_width => steps::BOX_WIDTH,
                box_height => steps::BOX_HEIGHT,
            })
        })
        .map_err(|e| format!("cannot render the report: {e:#}"))
}

/// Renders and writes the report page.
pub fn write(path: &std::path::Path, records: &[Record], run: Option<&RunData>) -> Result<(), String> {
    let html = render(records, run)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::write(path, html).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// After a run: saves its record as `OUT/.aksflow/run.json` (for `aksflow report` later)
/// and, when `page` is given, writes its report page there.
pub fn keep(plan: &crate::flow::Plan, report: &crate::runner::RunReport, logs: BTreeMap<String, Vec<capture::LogLine>>, out_dir: &std::path::Path, page: Option<&std::path::Path>) -> Result<(), String> {
    let data = RunData::new(plan, report.clone(), logs);
    let path = out_dir.join(run_data::RUN_FILE);
    data.save(&path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let Some(page) = page else { return Ok(()) };
    let records = match &report.transcript {
        Some(t) => crate::transcript::read(std::path::Path::new(t))?,
        None => Vec::new(),
    };
    write(page, &records, Some(&data))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::transcript::{RecordedRequest, RecordedResponse};

    fn hostile() -> Record {
        let evil = "</script><script>alert(1)</script><img src=x onerror=alert(2)>";
        Record {
            seq: 1,
            time: "2026-01-01T00:00:00.000Z".into(),
            step: format!("s{evil}"),
            service: "graph".into(),
            request: RecordedRequest { method: "GET".into(), url: format!("/v1.0/{evil}"), headers: BTreeMap::new(), body: serde_json::Value::Null },
            response: Some(RecordedResponse { status: 400, headers: BTreeMap::new(), body: serde_json::json!({ "error": { "code": "x", "message": evil } }), retries: 0 }),
            error: None,
        }
    }

    #[test]
    fn what_the_services_said_is_text_on_the_page_never_markup() {
        let html = render(&[hostile()], None).unwrap();
        let page = scraper::Html::parse_document(&html);
        let count = |css: &str| page.select(&scraper::Selector::parse(css).unwrap()).count();
        assert_eq!(count("script"), 2, "the call data and the page's own script, nothing else");
        assert_eq!(count("img"), 0);
        let data = page.select(&scraper::Selector::parse("#calls-data").unwrap()).next().unwrap().text().collect::<String>();
        let calls: serde_json::Value = serde_json::from_str(&data).unwrap();
        assert!(calls[0]["records"][0]["response"]["body"]["error"]["message"].as_str().unwrap().starts_with("</script>"));
        assert_eq!(count("[src], link, iframe, object"), 0, "nothing is loaded from elsewhere");
    }

    #[test]
    fn a_page_of_calls_only_has_the_diagram_and_no_step_view() {
        let html = render(&[hostile()], None).unwrap();
        let page = scraper::Html::parse_document(&html);
        let count = |css: &str| page.select(&scraper::Selector::parse(css).unwrap()).count();
        assert_eq!((count("#diagram g.call"), count("#dag"), count("#failure")), (1, 0, 0));
    }
}
