//! `aksflow report TRANSCRIPT`

use std::path::{Path, PathBuf};

use clap::Args;

use crate::report::{self, RunData};
use crate::transcript;

#[derive(Args, Debug)]
#[command(after_long_help = "\
Draws a transcript as one self-contained HTML page: a sequence diagram of the calls (one lane
per step and per service), each call's request, response and tokens on click, and — when the
run's record is found beside the transcript (`aksflow run` saves it as OUT/.aksflow/run.json)
— the steps with their status, time, inputs, outputs and log lines, the failing step first.

Examples:
  aksflow run flows/legacy-aad.toml && aksflow report out/transcript.jsonl
  aksflow report golden.jsonl -o golden.html --run out/.aksflow/run.json")]
pub struct ReportArgs {
    /// The transcript (JSON Lines) a run wrote
    pub transcript: PathBuf,
    /// Where to write the page [default: report.html beside the transcript]
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The run's record [default: .aksflow/run.json beside the transcript, if it is this transcript's]
    #[arg(long, value_name = "FILE")]
    pub run: Option<PathBuf>,
}

pub async fn run(args: ReportArgs) -> i32 {
    let records = match transcript::read(&args.transcript) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let run = match &args.run {
        Some(path) => match RunData::load(path) {
            Ok(d) => Some(d),
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        },
        None => found_beside(&args.transcript),
    };
    let output = args.output.clone().unwrap_or_else(|| args.transcript.parent().unwrap_or(Path::new(".")).join("report.html"));
    match report::write(&output, &records, run.as_ref()) {
        Ok(()) => {
            let what = if run.is_some() { "calls and steps" } else { "calls only: no run record beside the transcript" };
            eprintln!("report: {} ({} calls; {what})", output.display(), records.len());
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

/// The run record beside the transcript, if it is the record of the run that wrote it.
fn found_beside(transcript: &Path) -> Option<RunData> {
    let path = RunData::beside(transcript);
    let data = RunData::load(&path).ok()?;
    let same = |a: &Path, b: &Path| a.canonicalize().ok().zip(b.canonicalize().ok()).is_some_and(|(a, b)| a == b);
    data.report.transcript.as_deref().is_some_and(|t| same(Path::new(t), transcript)).then_some(data)
}
