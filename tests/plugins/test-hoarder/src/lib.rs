//! Spends the host's resources through the contract alone (raw WIT imports, no SDK helpers):
//! `calls` ARM calls with a `body-bytes` body each, one `log-bytes` log line, and files
//! named by `files` (comma-separated). The step budget and the output directory's owner
//! must stop it.
use aksflow_sdk::bindings::aksflow::step::{cloud, log};
use aksflow_sdk::{Field, File, Guest, InputSpec, OutputSpec, Service, StepError, StepInfo, StepOutput, Value, ValueKind};

struct Hoarder;

fn input(inputs: &[Field], name: &str) -> Option<String> {
    inputs.iter().find(|f| f.name == name).map(|f| match &f.value {
        Value::Text(s) | Value::Secret(s) => s.clone(),
    })
}

fn number(inputs: &[Field], name: &str) -> usize {
    input(inputs, name).and_then(|s| s.parse().ok()).unwrap_or(0)
}

fn spec(name: &str, kind: ValueKind) -> InputSpec {
    InputSpec { name: name.into(), description: name.into(), kind, required: false, secret: false }
}

impl Guest for Hoarder {
    fn describe() -> StepInfo {
        StepInfo {
            name: "test-hoarder".into(),
            summary: "Spends the host's resources".into(),
            inputs: vec![
                spec("calls", ValueKind::Integer),
                spec("body-bytes", ValueKind::Integer),
                spec("log-bytes", ValueKind::Integer),
                spec("files", ValueKind::Text),
            ],
            outputs: vec![OutputSpec { name: "answered".into(), description: "calls answered".into(), secret: false }],
            services: vec![Service::Arm],
        }
    }

    fn run(inputs: Vec<Field>) -> Result<StepOutput, StepError> {
        let body = vec![b'x'; number(&inputs, "body-bytes")];
        let mut answered = 0;
        for i in 0..number(&inputs, "calls") {
            let req = cloud::Request {
                service: Service::Arm,
                method: "PUT".into(),
                path: format!("/subscriptions/none/resourcegroups/hoard-{i}"),
                query: vec![("api-version".into(), "2021-04-01".into())],
                headers: vec![],
                body: body.clone(),
                server: None,
                certificate_authority: None,
                client_identity: None,
                anonymous: false,
            };
            if cloud::call(&req).is_ok() {
                answered += 1;
            }
        }
        let log_bytes = number(&inputs, "log-bytes");
        if log_bytes > 0 {
            log::write(log::Level::Info, &"y".repeat(log_bytes));
        }
        let files = input(&inputs, "files").unwrap_or_default();
        let files = files
            .split(',')
            .filter(|n| !n.is_empty())
            .map(|n| File { path: n.to_string(), contents: Value::Text(format!("written by the hoarder as {n}\n")) })
            .collect();
        Ok(StepOutput { outputs: vec![Field { name: "answered".into(), value: Value::Text(answered.to_string()) }], files })
    }
}

aksflow_sdk::export!(Hoarder with_types_in aksflow_sdk::bindings);
