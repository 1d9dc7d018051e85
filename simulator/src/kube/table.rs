//! Server-side `Table` output, so `kubectl get` prints its usual columns. [protocols.md §E.6]

use serde_json::{Value, json};

/// kubectl's human durations: 45s, 5m, 3h, 2d4h, 12d.
pub fn age(created_ms: i64, now_ms: i64) -> String {
    let s = ((now_ms - created_ms) / 1000).max(0);
    match s {
        0..=119 => format!("{s}s"),
        120..=7199 => format!("{}m", s / 60),
        7200..=172_799 => format!("{}h", s / 3600),
        _ if s < 8 * 86400 => {
            let h = (s % 86400) / 3600;
            if h == 0 { format!("{}d", s / 86400) } else { format!("{}d{h}h", s / 86400) }
        }
        _ => format!("{}d", s / 86400),
    }
}

fn col(name: &str, priority: u32, format: &str) -> Value {
    json!({ "name": name, "type": "string", "format": format, "description": "", "priority": priority })
}

fn created_ms(o: &Value) -> i64 {
    o["metadata"]["creationTimestamp"]
        .as_str()
        .and_then(|t| time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok())
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .unwrap_or(0)
}

fn s(v: &Value) -> String {
    v.as_str().map(String::from).unwrap_or_else(|| "<none>".into())
}

/// A Table of objects of `resource`.
pub fn table(resource: &str, objects: &[Value], resource_version: &str, now_ms: i64) -> Value {
    let (columns, cells): (Vec<Value>, Box<dyn Fn(&Value) -> Vec<Value>>) = match resource {
        "pods" => (
            vec![col("Name", 0, "name"), col("Ready", 0, ""), col("Status", 0, ""), col("Restarts", 0, ""), col("Age", 0, ""), col("IP", 1, ""), col("Node", 1, ""), col("Nominated Node", 1, ""), col("Readiness Gates", 1, "")],
            Box::new(move |o: &Value| {
                let statuses = o["status"]["containerStatuses"].as_array().cloned().unwrap_or_default();
                let ready = statuses.iter().filter(|c| c["ready"] == true).count();
                let restarts: i64 = statuses.iter().map(|c| c["restartCount"].as_i64().unwrap_or(0)).sum();
                vec![
                    json!(o["metadata"]["name"]),
                    json!(format!("{ready}/{}", statuses.len())),
                    json!(s(&o["status"]["phase"])),
                    json!(restarts.to_string()),
                    json!(age(created_ms(o), now_ms)),
                    json!(s(&o["status"]["podIP"])),
                    json!(s(&o["spec"]["nodeName"])),
                    json!("<none>"),
                    json!("<none>"),
                ]
            }),
        ),
        "nodes" => (
            vec![col("Name", 0, "name"), col("Status", 0, ""), col("Roles", 0, ""), col("Age", 0, ""), col("Version", 0, ""), col("Internal-IP", 1, ""), col("External-IP", 1, ""), col("OS-Image", 1, ""), col("Kernel-Version", 1, ""), col("Container-Runtime", 1, "")],
            Box::new(move |o: &Value| {
                let ip = o["status"]["addresses"].as_array().and_then(|a| a.iter().find(|x| x["type"] == "InternalIP")).map(|x| s(&x["address"])).unwrap_or_default();
                let info = &o["status"]["nodeInfo"];
                vec![
                    json!(o["metadata"]["name"]),
                    json!("Ready"),
                    json!("<none>"),
                    json!(age(created_ms(o), now_ms)),
                    json!(s(&info["kubeletVersion"])),
                    json!(ip),
                    json!("<none>"),
                    json!(s(&info["osImage"])),
                    json!(s(&info["kernelVersion"])),
                    json!(s(&info["containerRuntimeVersion"])),
                ]
            }),
        ),
        "namespaces" => (
            vec![col("Name", 0, "name"), col("Status", 0, ""), col("Age", 0, "")],
            Box::new(move |o: &Value| vec![json!(o["metadata"]["name"]), json!(s(&o["status"]["phase"])), json!(age(created_ms(o), now_ms))]),
        ),
        "clusterrolebindings" | "rolebindings" => (
            vec![col("Name", 0, "name"), col("Role", 0, ""), col("Age", 0, "")],
            Box::new(move |o: &Value| vec![json!(o["metadata"]["name"]), json!(format!("{}/{}", s(&o["roleRef"]["kind"]), s(&o["roleRef"]["name"]))), json!(age(created_ms(o), now_ms))]),
        ),
        _ => (
            vec![col("Name", 0, "name"), col("Age", 0, "")],
            Box::new(move |o: &Value| vec![json!(o["metadata"]["name"]), json!(age(created_ms(o), now_ms))]),
        ),
    };
    let rows: Vec<Value> = objects
        .iter()
        .map(|o| {
            let mut meta = o["metadata"].clone();
            if let Some(m) = meta.as_object_mut() {
                m.remove("managedFields");
            }
            json!({ "cells": cells(o), "object": { "kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": meta } })
        })
        .collect();
    json!({ "kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": { "resourceVersion": resource_version }, "columnDefinitions": columns, "rows": rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_like_kubectl() {
        assert_eq!(age(0, 45_000), "45s");
        assert_eq!(age(0, 5 * 60_000), "5m");
        assert_eq!(age(0, 3 * 3_600_000), "3h");
        assert_eq!(age(0, (2 * 86400 + 4 * 3600) * 1000), "2d4h");
        assert_eq!(age(0, 12 * 86_400_000), "12d");
    }
}
