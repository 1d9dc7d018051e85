//! The SDK's kubeconfig parser and its manifest reader: what a step reads from a file or
//! an ARM answer it was given.

use aksflow_sdk::kube::config::Kubeconfig;
use aksflow_sdk::kube::manifest;

pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(kc) = Kubeconfig::parse(text) {
        // What the SDK writes, it reads back.
        let again = kc.to_yaml();
        Kubeconfig::parse(&again).unwrap_or_else(|e| panic!("the SDK cannot read the kubeconfig it wrote: {e:?}\n{again}"));
        if let Ok(current) = kc.current() {
            let _ = (current.server(), current.namespace());
        }
        let _ = kc.working_namespace(None);
        let names: Vec<String> = kc.contexts.iter().map(|c| c.name.clone()).collect();
        for name in names {
            let _ = kc.resolve(&name);
        }
    }
    if let Ok(objects) = manifest::parse_manifests(text) {
        for o in &objects {
            let _ = manifest::ObjectRef::from_manifest(o, "default");
        }
    }
}
