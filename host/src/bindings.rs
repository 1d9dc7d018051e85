//! Host-side bindings of the `aksflow:step` WIT world.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "step",
    imports: { default: async | trappable },
    exports: { default: async },
    additional_derives: [PartialEq, Eq, serde::Serialize, serde::Deserialize],
});

pub use aksflow::step::cloud::{CallError, Header, Request as CloudRequest, Response as CloudResponse};
pub use aksflow::step::types::{CloudContext, File, InputSpec, OutputSpec, Service, Value, ValueKind};

impl Service {
    pub fn name(self) -> &'static str {
        match self {
            Service::Login => "login",
            Service::Graph => "graph",
            Service::Arm => "arm",
            Service::Kube => "kube",
        }
    }

    pub fn parse(s: &str) -> Option<Service> {
        match s {
            "login" => Some(Service::Login),
            "graph" => Some(Service::Graph),
            "arm" => Some(Service::Arm),
            "kube" => Some(Service::Kube),
            _ => None,
        }
    }
}

impl std::fmt::Display for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Value {
    pub fn as_str(&self) -> &str {
        match self {
            Value::Text(s) | Value::Secret(s) => s,
        }
    }

    pub fn is_secret(&self) -> bool {
        matches!(self, Value::Secret(_))
    }
}

impl ValueKind {
    pub fn name(self) -> &'static str {
        match self {
            ValueKind::Text => "text",
            ValueKind::Integer => "integer",
            ValueKind::Boolean => "boolean",
            ValueKind::Json => "json",
        }
    }
}
