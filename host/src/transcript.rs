//! The transcript: one JSON line per cloud call (run-clock time, step, service, request,
//! response), secrets redacted. Against the simulator the same flow and seed give the same
//! bytes, so a stored transcript is a golden file: `--check` replays and compares.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::report::tokens::DecodedToken;

/// Records are buffered up to this much between writes (a legacy-aad run writes 88 KB); every
/// state save flushes them first, and so does the run's end.
const WRITE_BUFFER: usize = 64 << 10;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub seq: u64,
    pub time: String,
    pub step: String,
    pub service: String,
    pub request: RecordedRequest,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<RecordedResponse>,
    /// Why the call got no response (not granted, transport failure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedRequest {
    pub method: String,
    pub url: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub body: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedResponse {
    pub status: u16,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub body: serde_json::Value,
    /// Retries the host made (429/503) before this answer.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub retries: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// How far a transcript file had got: its length and how many records it held.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Mark {
    pub bytes: u64,
    pub records: u64,
}

/// Where records go: streamed to a file as they come, so a long run holds none of them in
/// memory. (Unit tests also keep them, to compare.)
pub struct Transcript {
    sink: Mutex<Sink>,
    path: Option<PathBuf>,
    /// The tokens each call carried, decoded (for the HTML report), by record number. Never
    /// written to the transcript file; `None` when the run does not keep them.
    tokens: Option<Mutex<BTreeMap<u64, Vec<DecodedToken>>>>,
}

struct Sink {
    file: Option<std::io::BufWriter<std::fs::File>>,
    /// Records written so far, this run and (resuming) the runs before it: the next `seq`.
    written: u64,
    #[cfg(test)]
    kept: Vec<Record>,
}

impl Transcript {
    /// Records kept in memory only (tests).
    #[cfg(test)]
    pub(crate) fn in_memory() -> Self {
        Transcript { sink: Mutex::new(Sink { file: None, written: 0, kept: Vec::new() }), path: None, tokens: None }
    }

    /// Writes to `path`: a fresh file (see [`crate::atomic_file::emptied`], which keeps an old
    /// one aside in `retired`), or appended to when a run resumes (numbering goes on from the
    /// records already there).
    pub fn to_file(path: &Path, append: bool, retired: &Path) -> std::io::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let written = if append { count_records(path)? } else { 0 };
        let file = if append {
            std::fs::OpenOptions::new().create(true).append(true).open(path)?
        } else {
            crate::atomic_file::emptied(path, retired)?
        };
        Ok(Transcript {
            sink: Mutex::new(Sink {
                file: Some(std::io::BufWriter::with_capacity(WRITE_BUFFER, file)),
                written,
                #[cfg(test)]
                kept: Vec::new(),
            }),
            path: Some(path.to_path_buf()),
            tokens: None,
        })
    }

    /// Continues a transcript from where a saved run's [`Mark`] says it stood: what was
    /// written after that (by steps the kill cut short) is cut off, because the resumed run
    /// writes it again.
    pub fn resume_at(path: &Path, mark: Mark) -> Result<Self, String> {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| format!("cannot open the transcript {} to continue it: {e}; run without --resume to start over", path.display()))?;
        let len = file.metadata().map_err(|e| e.to_string())?.len();
        if len < mark.bytes {
            return Err(format!(
                "the transcript {} is shorter ({len} bytes) than when the run was saved ({} bytes); restore it, or run without --resume to start over",
                path.display(),
                mark.bytes
            ));
        }
        file.set_len(mark.bytes).map_err(|e| format!("cannot cut the transcript {} back to the saved run: {e}", path.display()))?;
        drop(file);
        let file = std::fs::OpenOptions::new().append(true).open(path).map_err(|e| e.to_string())?;
        Ok(Transcript {
            sink: Mutex::new(Sink {
                file: Some(std::io::BufWriter::with_capacity(WRITE_BUFFER, file)),
                written: mark.records,
                #[cfg(test)]
                kept: Vec::new(),
            }),
            path: Some(path.to_path_buf()),
            tokens: None,
        })
    }

    /// Writes out what is buffered and says where the file stands (for the saved state).
    pub fn mark(&self) -> std::io::Result<Mark> {
        let mut sink = self.sink.lock().unwrap_or_else(|p| p.into_inner());
        let records = sink.written;
        let bytes = match sink.file.as_mut() {
            Some(f) => {
                f.flush()?;
                f.get_ref().metadata()?.len()
            }
            None => 0,
        };
        Ok(Mark { bytes, records })
    }

    /// Keeps the decoded tokens of each call beside the records (for the HTML report).
    pub fn keeping_tokens(mut self) -> Self {
        self.tokens = Some(Mutex::new(BTreeMap::new()));
        self
    }

    pub fn keeps_tokens(&self) -> bool {
        self.tokens.is_some()
    }

    /// Notes the tokens record `seq` carried (kept only when the transcript keeps tokens).
    pub fn note_tokens(&self, seq: u64, found: Vec<DecodedToken>) {
        if let (Some(tokens), false) = (&self.tokens, found.is_empty()) {
            tokens.lock().unwrap_or_else(|p| p.into_inner()).insert(seq, found);
        }
    }

    /// The decoded tokens kept so far, by record number.
    pub fn tokens(&self) -> BTreeMap<u64, Vec<DecodedToken>> {
        self.tokens.as_ref().map(|t| t.lock().unwrap_or_else(|p| p.into_inner()).clone()).unwrap_or_default()
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Appends a record, numbering it; returns its number.
    pub fn push(&self, mut record: Record) -> u64 {
        let mut sink = self.sink.lock().unwrap_or_else(|p| p.into_inner());
        sink.written += 1;
        record.seq = sink.written;
        if let Some(f) = sink.file.as_mut() {
            // Straight into the buffer: no line built first, no formatting machinery.
            if let Err(e) = serde_json::to_writer(&mut *f, &record).map_err(std::io::Error::from).and_then(|()| f.write_all(b"\n")) {
                tracing::warn!("could not write the transcript: {e}");
            }
        }
        let seq = record.seq;
        #[cfg(test)]
        sink.kept.push(record);
        seq
    }

    pub fn flush(&self) {
        if let Some(f) = self.sink.lock().unwrap_or_else(|p| p.into_inner()).file.as_mut() {
            let _ = f.flush();
        }
    }

    /// The records pushed so far (tests).
    #[cfg(test)]
    pub(crate) fn records(&self) -> Vec<Record> {
        self.sink.lock().unwrap_or_else(|p| p.into_inner()).kept.clone()
    }
}

/// Lines already in a transcript file (none if it does not exist).
fn count_records(path: &Path) -> std::io::Result<u64> {
    use std::io::BufRead;
    match std::fs::File::open(path) {
        Ok(f) => Ok(std::io::BufReader::new(f).lines().map_while(Result::ok).filter(|l| !l.trim().is_empty()).count() as u64),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(e),
    }
}

/// Reads a transcript file back.
pub fn read(path: &Path) -> Result<Vec<Record>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read transcript {}: {e}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).map_err(|e| format!("{}:{}: not a transcript record: {e}", path.display(), i + 1)))
        .collect()
}

/// The first difference between an expected and an actual transcript.
#[derive(Debug, Clone, PartialEq)]
pub enum Mismatch {
    Differs { index: usize, expected: Box<Record>, actual: Box<Record> },
    Missing { index: usize, expected: Box<Record> },
    Extra { index: usize, actual: Box<Record> },
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pretty = |r: &Record| serde_json::to_string_pretty(r).unwrap_or_default();
        match self {
            Mismatch::Differs { index, expected, actual } => write!(
                f,
                "transcript record {} differs (step `{}`, {} {}):\n--- expected\n{}\n+++ actual\n{}",
                index + 1,
                actual.step,
                actual.request.method,
                actual.request.url,
                pretty(expected),
                pretty(actual)
            ),
            Mismatch::Missing { index, expected } => {
                write!(f, "the run stopped before transcript record {}; expected:\n{}", index + 1, pretty(expected))
            }
            Mismatch::Extra { index, actual } => {
                write!(f, "the run made a call the transcript does not have (record {}):\n{}", index + 1, pretty(actual))
            }
        }
    }
}

pub fn compare(expected: &[Record], actual: &[Record]) -> Option<Mismatch> {
    for i in 0..expected.len().max(actual.len()) {
        match (expected.get(i), actual.get(i)) {
            (Some(e), Some(a)) if e != a => {
                return Some(Mismatch::Differs { index: i, expected: Box::new(e.clone()), actual: Box::new(a.clone()) });
            }
            (Some(e), None) => return Some(Mismatch::Missing { index: i, expected: Box::new(e.clone()) }),
            (None, Some(a)) => return Some(Mismatch::Extra { index: i, actual: Box::new(a.clone()) }),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(step: &str, status: u16) -> Record {
        Record {
            seq: 0,
            time: "t".into(),
            step: step.into(),
            service: "arm".into(),
            request: RecordedRequest { method: "GET".into(), url: "/x".into(), headers: BTreeMap::new(), body: serde_json::Value::Null },
            response: Some(RecordedResponse { status, headers: BTreeMap::new(), body: serde_json::Value::Null, retries: 0 }),
            error: None,
        }
    }

    /// A fresh transcript file with two records in it.
    fn two_records(dir: &Path) -> (PathBuf, Transcript) {
        let path = dir.join("t.jsonl");
        let t = Transcript::to_file(&path, false, &dir.join("retired")).unwrap();
        t.push(rec("a", 200));
        t.push(rec("b", 201));
        t.flush();
        (path, t)
    }

    #[test]
    fn records_round_trip_through_a_file_and_compare_equal() {
        let dir = tempfile::tempdir().unwrap();
        let (path, t) = two_records(dir.path());
        let back = read(&path).unwrap();
        assert_eq!(back, t.records());
        assert_eq!(back[1].seq, 2);
        assert_eq!(compare(&back, &t.records()), None);
    }

    #[test]
    fn a_resumed_transcript_numbers_on_from_the_records_already_written() {
        let dir = tempfile::tempdir().unwrap();
        let (path, t) = two_records(dir.path());
        drop(t);
        let t = Transcript::to_file(&path, true, &dir.path().join("retired")).unwrap();
        t.push(rec("c", 202));
        t.flush();
        let seqs: Vec<u64> = read(&path).unwrap().iter().map(|r| r.seq).collect();
        assert_eq!(seqs, [1, 2, 3]);
    }

    #[test]
    fn a_fresh_transcript_replaces_the_old_file_and_keeps_its_mode() {
        let dir = tempfile::tempdir().unwrap();
        let retired = dir.path().join("retired");
        let (path, t) = two_records(dir.path());
        drop(t);
        #[cfg(unix)]
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        // 0666: a mode any usual umask would narrow.
        #[cfg(unix)]
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
        #[cfg(unix)]
        let old_inode = std::fs::metadata(&path).unwrap().ino();
        let t = Transcript::to_file(&path, false, &retired).unwrap();
        t.push(rec("c", 202));
        t.flush();
        let steps: Vec<String> = read(&path).unwrap().into_iter().map(|r| r.step).collect();
        assert_eq!(steps, ["c"]);
        #[cfg(unix)]
        {
            let new = std::fs::metadata(&path).unwrap();
            assert_ne!(new.ino(), old_inode, "a new file, not the old one emptied");
            assert_eq!(new.permissions().mode() & 0o777, 0o666);
        }
        crate::retired_files::settle(&retired);
        assert_eq!(std::fs::read_dir(&retired).unwrap().count(), 0, "the old version is gone");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2, "the transcript and the empty retired directory");
    }

    #[cfg(unix)]
    #[test]
    fn a_read_only_transcript_is_not_replaced_behind_its_back() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let dir = tempfile::tempdir().unwrap();
        let (path, t) = two_records(dir.path());
        drop(t);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
        let inode = std::fs::metadata(&path).unwrap().ino();
        // Opened in place as before: refused, or (as root) emptied, but the same file.
        if Transcript::to_file(&path, false, &dir.path().join("retired")).is_ok() {
            assert_eq!(std::fs::metadata(&path).unwrap().ino(), inode);
        }
        assert!(!dir.path().join("retired").exists(), "nothing was kept aside");
    }

    #[test]
    fn a_transcript_resumed_at_a_mark_drops_what_came_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let (path, t) = two_records(dir.path());
        let mark = t.mark().unwrap();
        assert_eq!(mark.records, 2);
        assert_eq!(mark.bytes, std::fs::metadata(&path).unwrap().len(), "the mark flushes what is buffered");
        // Written after the save, by a step the kill cut short; half a line, even.
        t.push(rec("late", 500));
        t.flush();
        drop(t);
        let mut f = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
        std::io::Write::write_all(&mut f, b"{\"seq\":4,\"ti").unwrap();
        drop(f);

        let t = Transcript::resume_at(&path, mark).unwrap();
        t.push(rec("c", 202));
        t.flush();
        let back = read(&path).unwrap();
        assert_eq!(back.iter().map(|r| (r.seq, r.step.as_str())).collect::<Vec<_>>(), [(1, "a"), (2, "b"), (3, "c")]);
    }

    #[test]
    fn a_transcript_shorter_than_its_mark_is_refused_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let (path, t) = two_records(dir.path());
        let mark = t.mark().unwrap();
        drop(t);
        std::fs::write(&path, "").unwrap();
        let e = Transcript::resume_at(&path, mark).err().unwrap();
        assert!(e.contains("shorter") && e.contains("without --resume"), "{e}");
        let e = Transcript::resume_at(&dir.path().join("gone.jsonl"), mark).err().unwrap();
        assert!(e.contains("cannot open") && e.contains("without --resume"), "{e}");
    }

    #[test]
    fn the_first_difference_is_reported() {
        let a = vec![rec("a", 200), rec("b", 201)];
        let b = vec![rec("a", 200), rec("b", 404)];
        assert!(matches!(compare(&a, &b), Some(Mismatch::Differs { index: 1, .. })));
        assert!(matches!(compare(&a, &a[..1]), Some(Mismatch::Missing { index: 1, .. })));
        assert!(matches!(compare(&a[..1], &a), Some(Mismatch::Extra { index: 1, .. })));
        let text = compare(&a, &b).unwrap().to_string();
        assert!(text.contains("record 2 differs") && text.contains("404"), "{text}");
    }
}
