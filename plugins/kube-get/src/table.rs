//! `kubectl get`'s output: a server-side `Table` or a plain list, printed as kubectl's
//! tabwriter does.

use aksflow_sdk::StepError;
use serde_json::Value as Json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The `Accept` header with which kubectl asks for server-side tables.
pub const ACCEPT_TABLE: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";

/// A table as kubectl prints it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// kubectl's tabwriter: every column but the last padded to its widest cell + 3
    /// (at least 6); the last column not padded.
    pub fn render(&self) -> String {
        let ncols = self.headers.len();
        let mut widths = vec![0usize; ncols];
        for line in std::iter::once(&self.headers).chain(self.rows.iter()) {
            for (i, cell) in line.iter().enumerate().take(ncols) {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let mut out = String::new();
        for line in std::iter::once(&self.headers).chain(self.rows.iter()) {
            let mut s = String::new();
            for (i, cell) in line.iter().enumerate().take(ncols) {
                s.push_str(cell);
                if i + 1 < ncols {
                    let width = (widths[i] + 3).max(6);
                    s.extend(std::iter::repeat_n(' ', width - cell.chars().count()));
                }
            }
            out.push_str(&s);
            out.push('\n');
        }
        out
    }
}

fn cell_text(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        Json::Null => "<none>".into(),
        Json::Number(n) => n.to_string(),
        Json::Bool(b) => b.to_string(),
        other => other.to_string(),
    }
}

/// Builds what `kubectl get` prints from a response body: a `meta.k8s.io` `Table` (columns
/// of priority 0, headers upper-cased), or a plain `…List` (NAME and AGE, the columns kubectl
/// falls back to). `all_namespaces` puts NAMESPACE first. `now_secs` (Unix seconds) ages a
/// plain list's objects.
pub fn table_from_response(body: &Json, all_namespaces: bool, now_secs: i64) -> Result<Table, StepError> {
    let kind = body.get("kind").and_then(Json::as_str).unwrap_or("");
    let mut table = Table::default();
    if kind == "Table" {
        let cols = body.get("columnDefinitions").and_then(Json::as_array).cloned().unwrap_or_default();
        let shown: Vec<usize> = cols
            .iter()
            .enumerate()
            .filter(|(_, c)| c.get("priority").and_then(Json::as_i64).unwrap_or(0) == 0)
            .map(|(i, _)| i)
            .collect();
        if all_namespaces {
            table.headers.push("NAMESPACE".into());
        }
        for &i in &shown {
            table.headers.push(cols[i].get("name").and_then(Json::as_str).unwrap_or("").to_ascii_uppercase());
        }
        for row in body.get("rows").and_then(Json::as_array).into_iter().flatten() {
            let cells = row.get("cells").and_then(Json::as_array).cloned().unwrap_or_default();
            let mut line = vec![];
            if all_namespaces {
                line.push(row.pointer("/object/metadata/namespace").and_then(Json::as_str).unwrap_or("").to_string());
            }
            for &i in &shown {
                line.push(cells.get(i).map(cell_text).unwrap_or_default());
            }
            table.rows.push(line);
        }
        return Ok(table);
    }
    if let Some(items) = body.get("items").and_then(Json::as_array) {
        if all_namespaces {
            table.headers.push("NAMESPACE".into());
        }
        table.headers.extend(["NAME".to_string(), "AGE".to_string()]);
        for item in items {
            let mut line = vec![];
            if all_namespaces {
                line.push(item.pointer("/metadata/namespace").and_then(Json::as_str).unwrap_or("").to_string());
            }
            line.push(item.pointer("/metadata/name").and_then(Json::as_str).unwrap_or("").to_string());
            let age = item
                .pointer("/metadata/creationTimestamp")
                .and_then(Json::as_str)
                .and_then(parse_rfc3339)
                .map(|t| human_duration(now_secs - t))
                .unwrap_or_else(|| "<unknown>".into());
            line.push(age);
            table.rows.push(line);
        }
        return Ok(table);
    }
    Err(StepError::new("UnexpectedResponse", format!("the server answered with a `{kind}`, neither a Table nor a list")))
}

/// Unix seconds of an RFC 3339 timestamp (`2024-05-16T03:25:00Z`, fractions and offsets
/// allowed), as `metav1.Time` sends it.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    OffsetDateTime::parse(s.trim(), &Rfc3339).ok().map(OffsetDateTime::unix_timestamp)
}

/// kubectl's AGE: apimachinery `duration.HumanDuration`.
pub fn human_duration(secs: i64) -> String {
    if secs < -1 {
        return "<invalid>".into();
    }
    if secs < 0 {
        return "0s".into();
    }
    if secs < 120 {
        return format!("{secs}s");
    }
    let minutes = secs / 60;
    if minutes < 10 {
        let s = secs % 60;
        return if s == 0 { format!("{minutes}m") } else { format!("{minutes}m{s}s") };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = secs / 3600;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 { format!("{hours}h") } else { format!("{hours}h{m}m") };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 { format!("{}d", hours / 24) } else { format!("{}d{h}h", hours / 24) };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        return if dy == 0 { format!("{}y", hours / 24 / 365) } else { format!("{}y{dy}d", hours / 24 / 365) };
    }
    format!("{}y", hours / 24 / 365)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_tables_like_kubectl() {
        let body = serde_json::json!({
            "kind": "Table", "apiVersion": "meta.k8s.io/v1",
            "columnDefinitions": [
                {"name": "Name", "type": "string", "priority": 0},
                {"name": "Ready", "type": "string", "priority": 0},
                {"name": "Status", "type": "string", "priority": 0},
                {"name": "Restarts", "type": "integer", "priority": 0},
                {"name": "Age", "type": "string", "priority": 0},
                {"name": "IP", "type": "string", "priority": 1}
            ],
            "rows": [
                {"cells": ["coredns-754f947b4-2v75r", "1/1", "Running", 0, "23h", "10.244.0.5"], "object": {"metadata": {"namespace": "kube-system"}}},
                {"cells": ["kubernetes-dashboard-847bb4ddc6-trt7m", "1/1", "Running", 0, "23h", "10.244.0.6"], "object": {"metadata": {"namespace": "kube-system"}}}
            ]
        });
        let t = table_from_response(&body, true, 0).unwrap();
        assert_eq!(
            t.render(),
            "NAMESPACE     NAME                                    READY   STATUS    RESTARTS   AGE\n\
             kube-system   coredns-754f947b4-2v75r                 1/1     Running   0          23h\n\
             kube-system   kubernetes-dashboard-847bb4ddc6-trt7m   1/1     Running   0          23h\n"
        );
        let t = table_from_response(&body, false, 0).unwrap();
        assert_eq!(t.headers, ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
    }

    #[test]
    fn short_columns_are_at_least_six_wide() {
        let t = Table { headers: vec!["A".into(), "B".into()], rows: vec![vec!["x".into(), "y".into()]] };
        assert_eq!(t.render(), "A     B\nx     y\n");
    }

    #[test]
    fn plain_lists_print_name_and_age() {
        let now = parse_rfc3339("2024-05-17T03:25:00Z").unwrap();
        let body = serde_json::json!({"kind": "NamespaceList", "items": [
            {"metadata": {"name": "default", "creationTimestamp": "2024-05-16T03:25:00Z"}},
            {"metadata": {"name": "kube-system", "creationTimestamp": "2024-05-17T03:20:30Z"}}
        ]});
        let t = table_from_response(&body, false, now).unwrap();
        assert_eq!(t.render(), "NAME          AGE\ndefault       24h\nkube-system   4m30s\n");
        assert!(table_from_response(&serde_json::json!({"kind": "Status"}), false, 0).is_err());
    }

    #[test]
    fn timestamps_and_ages() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2000-03-01T00:00:00Z"), Some(951_868_800));
        assert_eq!(parse_rfc3339("2024-05-16T03:18:25.2366666Z"), parse_rfc3339("2024-05-16T03:18:25Z"));
        assert_eq!(parse_rfc3339("2024-05-16T05:18:25+02:00"), parse_rfc3339("2024-05-16T03:18:25Z"));
        assert_eq!(parse_rfc3339("yesterday"), None);
        for (secs, want) in [(-5, "<invalid>"), (0, "0s"), (119, "119s"), (120, "2m"), (150, "2m30s"), (600, "10m"), (3 * 3600, "3h"), (3 * 3600 + 60, "3h1m"), (23 * 3600, "23h"), (50 * 3600, "2d2h"), (30 * 86400, "30d"), (800 * 86400, "2y70d"), (3000 * 86400, "8y")] {
            assert_eq!(human_duration(secs), want, "{secs}");
        }
    }
}
