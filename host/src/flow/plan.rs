//! From a flow file to a checked plan: plugins loaded and described, every reference
//! resolved, required inputs present, dependencies acyclic.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use toml::Spanned;

use super::error::{FlowError, FlowErrors, line_of};
use super::file::{ExpectDef, FlowFile, LimitsDef, StepDef};
use super::template::{Part, Template};
use super::units::{parse_duration, parse_size};
use crate::bindings::{Service, ValueKind};
use crate::caps::Grants;
use crate::engine::{Limits, Plugin, StepEngine};
use crate::plugins::{self, PluginRef, ResolveError};
use aksflow_simulator::Era;

/// The input through which kube steps learn which kubectl they act as.
const KUBECTL_VERSION: &str = "kubectl-version";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    Success,
    /// The step must fail with this code, and a message containing `message` if given.
    Failure { code: String, message: Option<String> },
}

pub struct PlannedStep {
    pub index: usize,
    pub id: String,
    pub uses: String,
    pub plugin: Arc<Plugin>,
    /// Input name, its value, and whether the plugin declares it secret.
    pub with: Vec<(String, Template, bool)>,
    pub grants: Vec<Service>,
    pub expect: Expect,
    pub limits: Limits,
    /// Indices of the steps this one waits for.
    pub deps: Vec<usize>,
    pub line: usize,
    /// Changes when anything that decides what the step does changes: its plugin, inputs,
    /// grants, expectation or limits. `--resume` reruns a finished step whose fingerprint moved.
    pub fingerprint: String,
    pub persona: Option<Persona>,
    /// Whom the step acts as instead of the operator (`as = …`).
    pub acting_as: Option<ActAs>,
    /// Time to let pass before the step starts (`wait = "10m"`).
    pub wait: Option<std::time::Duration>,
}

/// Whom a step acts as: a user signed in with their password, or a service principal.
#[derive(Clone, PartialEq, Eq)]
pub enum ActAs {
    /// `password`: as the flow gives it; else the seeded one (simulation) or the identities
    /// file's (`--identities`).
    User { name: String, password: Option<String> },
    ServicePrincipal { client_id: Template, client_secret: Template },
}

/// Secrets stay out of debug output.
impl std::fmt::Debug for ActAs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ActAs::User { name, password } => f.debug_struct("User").field("name", name).field("password", &password.as_ref().map(|_| "<redacted>")).finish(),
            ActAs::ServicePrincipal { client_id, .. } => f.debug_struct("ServicePrincipal").field("client_id", client_id).field("client_secret", &"<redacted>").finish(),
        }
    }
}

/// Who answers a device-code prompt in a simulation, and how.
#[derive(Clone, PartialEq, Eq)]
pub struct Persona {
    pub user: String,
    pub decline: bool,
    pub password: Option<String>,
    /// How long after the prompt the person answers (virtual time).
    pub after: Option<std::time::Duration>,
}

/// The password stays out of debug output.
impl std::fmt::Debug for Persona {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Persona").field("user", &self.user).field("decline", &self.decline).field("password", &self.password.as_ref().map(|_| "<redacted>")).field("after", &self.after).finish()
    }
}

pub struct Plan {
    pub path: PathBuf,
    pub name: String,
    pub description: Option<String>,
    pub vars: BTreeMap<String, String>,
    pub steps: Vec<PlannedStep>,
    /// SHA-256 of the flow file, to refuse resuming a run of a changed flow.
    pub source_hash: String,
    /// Which Azure the flow needs (`era = "2019"` for seed 000's legacy integration).
    pub era: Era,
    /// The flow's own `[faults]`, resolved.
    pub faults: Option<aksflow_simulator::faults::FaultProfile>,
    /// The most steps that can ever run at once: the sandboxes a run reserves.
    pub width: usize,
}

impl Plan {
    pub fn step(&self, id: &str) -> Option<&PlannedStep> {
        self.steps.iter().find(|s| s.id == id)
    }
}

pub async fn load(path: &Path, engine: &StepEngine) -> Result<Plan, FlowErrors> {
    let source = std::fs::read_to_string(path).map_err(|e| {
        FlowErrors(vec![FlowError {
            file: path.to_path_buf(),
            line: 0,
            message: format!("cannot read the flow file: {e}"),
            hint: Some("check the path; flows live in flows/, e.g. `aksflow run flows/hello.toml`".into()),
        }])
    })?;
    load_str(&source, path, engine).await
}

struct Checker<'a> {
    file: &'a Path,
    source: &'a str,
    errors: Vec<FlowError>,
}

impl Checker<'_> {
    fn err(&mut self, offset: usize, message: impl Into<String>, hint: Option<String>) {
        self.errors.push(FlowError { file: self.file.to_path_buf(), line: line_of(self.source, offset), message: message.into(), hint });
    }

    /// A duration field (`wait`, a persona's `after`), or an error naming `what`.
    fn duration(&mut self, offset: usize, what: &str, text: &str) -> Option<std::time::Duration> {
        parse_duration(text).map_err(|e| self.err(offset, format!("{what} {e}"), None)).ok()
    }
}

fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn list(names: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    let v: Vec<String> = names.into_iter().map(|n| format!("`{}`", n.as_ref())).collect();
    if v.is_empty() { "(none)".into() } else { v.join(", ") }
}

/// A `with` or `vars` value as text: strings as they are, numbers and booleans written out,
/// arrays and tables as JSON (for `json` inputs such as tags).
fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::Datetime(d) => d.to_string(),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

/// Checks a fully literal value against the kind the plugin declares.
pub fn check_kind(kind: ValueKind, value: &str) -> Result<(), String> {
    match kind {
        ValueKind::Text => Ok(()),
        ValueKind::Integer => value.trim().parse::<i64>().map(|_| ()).map_err(|_| format!("expects a whole number, got `{value}`")),
        ValueKind::Boolean => match value {
            "true" | "false" => Ok(()),
            _ => Err(format!("expects true or false, got `{value}`")),
        },
        ValueKind::Json => serde_json::from_str::<serde_json::Value>(value).map(|_| ()).map_err(|e| format!("expects JSON: {e}")),
    }
}

pub async fn load_str(source: &str, path: &Path, engine: &StepEngine) -> Result<Plan, FlowErrors> {
    let mut c = Checker { file: path, source, errors: Vec::new() };
    let file: FlowFile = match toml::from_str(source) {
        Ok(f) => f,
        Err(e) => {
            let offset = e.span().map(|s| s.start).unwrap_or(0);
            c.err(offset, format!("not a valid flow file: {}", e.message()), Some("see `aksflow run --help` for the flow file format".into()));
            return Err(FlowErrors(c.errors));
        }
    };
    let flow_dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let faults = file.faults.as_ref().and_then(|f| match f.get_ref().resolved() {
        Ok(p) => Some(p),
        Err(e) => {
            c.err(f.span().start, format!("[faults]: {e}"), Some("see docs/faults.md for the format and the presets".into()));
            None
        }
    });
    let era = match &file.era {
        None => Era::Today,
        Some(e) => Era::parse(e.get_ref()).unwrap_or_else(|msg| {
            c.err(e.span().start, msg, Some("`era = \"2019\"` is for seed 000's legacy Azure AD integration; leave it out for today's Azure".into()));
            Era::Today
        }),
    };

    let mut vars = BTreeMap::new();
    for (name, v) in &file.vars {
        if matches!(v.get_ref(), toml::Value::Array(_) | toml::Value::Table(_)) {
            c.err(v.span().start, format!("var `{name}` must be a string, number or boolean"), None);
        }
        vars.insert(name.clone(), value_text(v.get_ref()));
    }

    if file.steps.is_empty() {
        c.err(0, "the flow has no steps", Some("add a step: [[step]] with id, uses and with".into()));
    }

    // Pass 1: each step on its own.
    let mut first_seen: HashMap<String, usize> = HashMap::new();
    let mut loaded: Vec<Option<Arc<Plugin>>> = Vec::new();
    for spanned in &file.steps {
        let s = spanned.get_ref();
        let id = s.id.get_ref();
        if !valid_id(id) {
            c.err(s.id.span().start, format!("step id `{id}` may contain only letters, digits, `-` and `_`"), None);
        }
        if let Some(first) = first_seen.get(id) {
            let first_line = line_of(source, *first);
            c.err(s.id.span().start, format!("step id `{id}` is used twice"), Some(format!("it was first used at line {first_line}; step ids must be unique")));
        } else {
            first_seen.insert(id.clone(), s.id.span().start);
        }
        let plugin = match plugins::resolve(engine, &PluginRef::parse(s.uses.get_ref(), &flow_dir)).await {
            Ok(p) => Some(p),
            Err(ResolveError::UnknownBuiltin(name)) => {
                c.err(
                    s.uses.span().start,
                    format!("step `{id}` uses `{name}`, which is not a built-in plugin"),
                    Some(format!("built-in plugins are {}; a custom plugin is a path to its .wasm (`uses = \"./my_step.wasm\"`); `aksflow plugins list` shows them all", list(plugins::builtin_names()))),
                );
                None
            }
            Err(e) => {
                c.err(s.uses.span().start, format!("step `{id}`: {e}"), None);
                None
            }
        };
        loaded.push(plugin);
    }

    // Pass 2: references, inputs, grants, expectations.
    let index_of: HashMap<&str, usize> = file.steps.iter().enumerate().map(|(i, s)| (s.get_ref().id.get_ref().as_str(), i)).collect();
    let mut steps = Vec::new();
    for (i, spanned) in file.steps.iter().enumerate() {
        let s = spanned.get_ref();
        let id = s.id.get_ref().clone();
        let grants = check_grants(&mut c, s);
        let expect = check_expect(&mut c, s);
        let limits = check_limits(&mut c, s);
        let persona = check_persona(&mut c, s);
        let mut deps = Vec::new();
        let acting_as = check_acting_as(&mut c, &file, &loaded, &index_of, &vars, i, s, &mut deps);
        let wait = s.wait.as_ref().and_then(|w| c.duration(w.span().start, &format!("step `{id}`: wait"), w.get_ref()));
        for need in &s.needs {
            match index_of.get(need.get_ref().as_str()) {
                Some(&j) => deps.push(j),
                None => c.err(need.span().start, format!("step `{id}` needs `{}`, which is not a step of this flow", need.get_ref()), Some(format!("steps are {}", list(index_of.keys())))),
            }
        }
        let Some(plugin) = loaded[i].clone() else { continue };
        check_granted(&mut c, s, spanned.span().start, &plugin, &grants);
        let mut with = Vec::new();
        for (key, value) in &s.with {
            let Some(spec) = plugin.info.inputs.iter().find(|inp| inp.name == *key.get_ref()) else {
                c.err(
                    key.span().start,
                    format!("step `{id}`: plugin `{}` has no input `{}`", plugin.info.name, key.get_ref()),
                    Some(format!("its inputs are {}", list(plugin.info.inputs.iter().map(|i| &i.name)))),
                );
                continue;
            };
            let text = value_text(value.get_ref());
            let template = match Template::parse(&text) {
                Ok(t) => t,
                Err(e) => {
                    c.err(value.span().start, format!("step `{id}`, input `{}`: {e}", key.get_ref()), Some("references are `${{ vars.NAME }}` and `${{ steps.ID.outputs.NAME }}`".into()));
                    continue;
                }
            };
            check_references(&mut c, &file, &loaded, &index_of, &vars, &id, i, key.get_ref(), value.span().start, &template, &mut deps);
            if template.0.iter().all(|p| matches!(p, Part::Literal(_))) {
                if let Err(e) = check_kind(spec.kind, &text) {
                    c.err(value.span().start, format!("step `{id}`, input `{}` {e}", key.get_ref()), None);
                }
            }
            with.push((key.get_ref().clone(), template, spec.secret));
        }
        // Kube steps act as the kubectl of the flow's era unless the step names another.
        if plugin.info.inputs.iter().any(|inp| inp.name == KUBECTL_VERSION) && !s.with.keys().any(|k| k.get_ref() == KUBECTL_VERSION) {
            with.push((KUBECTL_VERSION.into(), Template(vec![Part::Literal(super::era::kubectl_version(era).into())]), false));
        }
        let missing: Vec<&str> = plugin
            .info
            .inputs
            .iter()
            .filter(|inp| inp.required && !s.with.keys().any(|k| *k.get_ref() == inp.name))
            .map(|inp| inp.name.as_str())
            .collect();
        if !missing.is_empty() {
            c.err(
                spanned.span().start,
                format!("step `{id}` (plugin `{}`) is missing required input{} {}", plugin.info.name, if missing.len() > 1 { "s" } else { "" }, list(&missing)),
                Some(format!("add them to the step: with = {{ {} }}", missing.iter().map(|m| format!("{m} = \"…\"")).collect::<Vec<_>>().join(", "))),
            );
        }
        deps.sort_unstable();
        deps.dedup();
        let fingerprint = {
            let mut h = Sha256::new();
            h.update(plugin.hash);
            for (k, v) in &s.with {
                h.update(format!("{}={}\n", k.get_ref(), value_text(v.get_ref())));
            }
            h.update(format!("era={era}{grants:?}{expect:?}{limits:?}{:?}{acting_as:?}{wait:?}", s.persona.as_ref().map(|p| format!("{:?}", p.get_ref()))));
            // What `as` signs in with decides what the step does: hashed into the fingerprint.
            match &acting_as {
                Some(ActAs::User { password: Some(p), .. }) => h.update(p.as_bytes()),
                Some(ActAs::ServicePrincipal { client_secret, .. }) => h.update(format!("{client_secret:?}").as_bytes()),
                _ => {}
            }
            hex::encode(h.finalize())
        };
        steps.push(PlannedStep {
            index: i,
            id,
            uses: s.uses.get_ref().clone(),
            plugin,
            with,
            grants,
            expect,
            limits,
            deps,
            line: line_of(source, spanned.span().start),
            fingerprint,
            persona,
            acting_as,
            wait,
        });
    }

    if c.errors.is_empty() {
        check_cycles(&mut c, &file, &steps);
    }
    if !c.errors.is_empty() {
        c.errors.sort_by_key(|e| e.line);
        return Err(FlowErrors(c.errors));
    }
    let width = super::width::width(&steps.iter().map(|s| s.deps.clone()).collect::<Vec<_>>());
    Ok(Plan {
        width,
        path: path.to_path_buf(),
        name: file.name.clone().unwrap_or_else(|| path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()),
        description: file.description.clone(),
        vars,
        steps,
        source_hash: hex::encode(Sha256::digest(source.as_bytes())),
        era,
        faults,
    })
}

fn check_grants(c: &mut Checker<'_>, s: &StepDef) -> Vec<Service> {
    let mut grants = Vec::new();
    for g in &s.grant {
        match Service::parse(g.get_ref()) {
            Some(svc) => grants.push(svc),
            None => c.err(
                g.span().start,
                format!("step `{}` grants `{}`, which is not a service", s.id.get_ref(), g.get_ref()),
                Some("services are `login`, `graph`, `arm` and `kube`".into()),
            ),
        }
    }
    grants
}

/// Every service the plugin says it calls must be granted: refused here, when the flow
/// loads, rather than as `NotGranted` halfway through a run.
fn check_granted(c: &mut Checker<'_>, s: &StepDef, step_offset: usize, plugin: &Plugin, grants: &[Service]) {
    let missing = Grants::of(grants).missing(&plugin.info.services);
    if missing.is_empty() {
        return;
    }
    let id = s.id.get_ref();
    let mut all: Vec<Service> = grants.to_vec();
    all.extend(missing.iter().copied());
    let line = format!("grant = [{}]", all.iter().map(|g| format!("\"{g}\"")).collect::<Vec<_>>().join(", "));
    let (offset, hint) = match s.grant.first() {
        Some(first) => (first.span().start, format!("change the step's grant line {} to `{line}`", line_of(c.source, first.span().start))),
        None => (step_offset, format!("add `{line}` to the step (line {})", line_of(c.source, step_offset))),
    };
    c.err(
        offset,
        format!(
            "step `{id}` uses plugin `{}`, which calls {}, but the flow does not grant {}",
            plugin.info.name,
            list(missing.iter().map(|m| m.name())),
            if missing.len() > 1 { "them" } else { "it" }
        ),
        Some(hint),
    );
}

fn check_expect(c: &mut Checker<'_>, s: &StepDef) -> Expect {
    match s.expect.as_ref().map(|e| (e.span().start, e.get_ref())) {
        None => Expect::Success,
        Some((_, ExpectDef::Word(w))) if w == "success" => Expect::Success,
        Some((at, ExpectDef::Word(w))) => {
            c.err(at, format!("step `{}`: `expect = \"{w}\"` is not an expectation", s.id.get_ref()), Some("write `expect = \"success\"` or `expect = { failure = \"CODE\", message = \"text in the message\" }`".into()));
            Expect::Success
        }
        Some((at, ExpectDef::Failure { failure, message })) => {
            if message.as_deref().is_some_and(|m| m.contains("${{")) || failure.contains("${{") {
                c.err(at, format!("step `{}`: `expect` is matched as written; `${{{{ … }}}}` is not substituted there", s.id.get_ref()), Some("match on text that does not depend on the seed".into()));
            }
            Expect::Failure { code: failure.clone(), message: message.clone() }
        }
    }
}

/// `as = …`: a user written out, or a service principal whose fields may refer to outputs.
#[allow(clippy::too_many_arguments)]
fn check_acting_as(
    c: &mut Checker<'_>,
    file: &FlowFile,
    loaded: &[Option<Arc<Plugin>>],
    index_of: &HashMap<&str, usize>,
    vars: &BTreeMap<String, String>,
    i: usize,
    s: &StepDef,
    deps: &mut Vec<usize>,
) -> Option<ActAs> {
    let def = s.acting_as.as_ref()?;
    let at = def.span().start;
    let id = s.id.get_ref();
    let user = |c: &mut Checker<'_>, name: &str, password: Option<String>| {
        if !name.contains('@') || name.contains("${{") {
            c.err(at, format!("step `{id}`: `as` names the user `{name}`, which is not a sign-in name written out"), Some("write it as as = \"bob@contoso.onmicrosoft.com\"; users are not templated".into()));
            return None;
        }
        Some(ActAs::User { name: name.to_string(), password })
    };
    match def.get_ref() {
        super::file::ActAsDef::User(name) => user(c, name, None),
        super::file::ActAsDef::Detailed { user: Some(name), password, client_id: None, client_secret: None } => user(c, name, password.clone()),
        super::file::ActAsDef::Detailed { user: None, password: None, client_id: Some(cid), client_secret: Some(secret) } => {
            let mut template = |key: &str, text: &str| match Template::parse(text) {
                Ok(t) => {
                    check_references(c, file, loaded, index_of, vars, id, i, key, at, &t, deps);
                    Some(t)
                }
                Err(e) => {
                    c.err(at, format!("step `{id}`, `{key}`: {e}"), None);
                    None
                }
            };
            let client_id = template("as.client-id", cid)?;
            let client_secret = template("as.client-secret", secret)?;
            Some(ActAs::ServicePrincipal { client_id, client_secret })
        }
        _ => {
            c.err(
                at,
                format!("step `{id}`: `as` must be a user (as = \"bob@contoso.onmicrosoft.com\", or {{ user, password }}) or a service principal ({{ client-id, client-secret }})"),
                None,
            );
            None
        }
    }
}

fn check_persona(c: &mut Checker<'_>, s: &StepDef) -> Option<Persona> {
    let def = s.persona.as_ref()?;
    let user = match def.get_ref() {
        super::file::PersonaDef::User(u) => u,
        super::file::PersonaDef::Detailed { user, .. } => user,
    };
    if user.contains("${{") || !user.contains('@') {
        c.err(def.span().start, format!("step `{}`: persona `{user}` must be a user's sign-in name written out, e.g. alice@contoso.onmicrosoft.com", s.id.get_ref()), Some("personas are not templated; the simulator's users are listed in docs and in `aksflow run --help`".into()));
        return None;
    }
    match def.get_ref() {
        super::file::PersonaDef::User(u) => Some(Persona { user: u.clone(), decline: false, password: None, after: None }),
        super::file::PersonaDef::Detailed { user, action, password, after } => {
            let after = after.as_deref().and_then(|a| c.duration(def.span().start, &format!("step `{}`: persona after", s.id.get_ref()), a));
            let decline = match action.as_deref() {
                None | Some("signin") => false,
                Some("decline") => true,
                Some(other) => {
                    c.err(def.span().start, format!("step `{}`: persona action `{other}` is not `signin` or `decline`", s.id.get_ref()), None);
                    false
                }
            };
            Some(Persona { user: user.clone(), decline, password: password.clone(), after })
        }
    }
}

fn check_limits(c: &mut Checker<'_>, s: &StepDef) -> Limits {
    let mut limits = Limits::default();
    let Some(def) = &s.limits else { return limits };
    let at = def.span().start;
    let LimitsDef { fuel, memory, timeout, output, calls, network, log } = def.get_ref();
    let id = s.id.get_ref();
    if let Some(f) = fuel {
        limits.fuel = *f;
    }
    if let Some(m) = memory {
        match parse_size(m) {
            Ok(b) if b <= crate::engine::MAX_MEMORY_BYTES => limits.memory_bytes = b,
            Ok(b) => c.err(at, format!("step `{id}`: memory limit {} MiB is above the most aksflow allows ({} MiB)", b >> 20, crate::engine::MAX_MEMORY_BYTES >> 20), None),
            Err(e) => c.err(at, format!("step `{id}`: limits.memory: {e}"), None),
        }
    }
    if let Some(t) = timeout {
        match parse_duration(t) {
            Ok(d) => limits.timeout = d,
            Err(e) => c.err(at, format!("step `{id}`: limits.timeout: {e}"), None),
        }
    }
    if let Some(o) = output {
        match parse_size(o) {
            Ok(b) => limits.output_bytes = b as usize,
            Err(e) => c.err(at, format!("step `{id}`: limits.output: {e}"), None),
        }
    }
    if let Some(n) = calls {
        limits.calls = *n;
    }
    for (key, value, slot) in [("network", network, &mut limits.network_bytes), ("log", log, &mut limits.log_bytes)] {
        if let Some(v) = value {
            match parse_size(v) {
                Ok(b) => *slot = b,
                Err(e) => c.err(at, format!("step `{id}`: limits.{key}: {e}"), None),
            }
        }
    }
    limits
}

#[allow(clippy::too_many_arguments)]
fn check_references(
    c: &mut Checker<'_>,
    file: &FlowFile,
    loaded: &[Option<Arc<Plugin>>],
    index_of: &HashMap<&str, usize>,
    vars: &BTreeMap<String, String>,
    id: &str,
    me: usize,
    input: &str,
    at: usize,
    template: &Template,
    deps: &mut Vec<usize>,
) {
    for part in &template.0 {
        match part {
            Part::Literal(_) => {}
            Part::Var(v) if !vars.contains_key(v) => c.err(
                at,
                format!("step `{id}`, input `{input}`: there is no var `{v}`"),
                Some(format!("vars are {}; define it under [vars]", list(vars.keys()))),
            ),
            Part::Var(_) => {}
            Part::Output { step, name } => {
                let Some(&j) = index_of.get(step.as_str()) else {
                    c.err(at, format!("step `{id}`, input `{input}`: there is no step `{step}`"), Some(format!("steps are {}", list(index_of.keys()))));
                    continue;
                };
                if j == me {
                    c.err(at, format!("step `{id}`, input `{input}` refers to the step's own output `{name}`"), Some("a step can only use outputs of other steps".into()));
                    continue;
                }
                deps.push(j);
                if let Some(ExpectDef::Failure { .. }) = file.steps[j].get_ref().expect.as_ref().map(Spanned::get_ref) {
                    c.err(at, format!("step `{id}`, input `{input}` uses an output of `{step}`, which is expected to fail and so has none"), Some(format!("use `needs = [\"{step}\"]` to order the steps without using outputs")));
                    continue;
                }
                if let Some(p) = &loaded[j] {
                    if !p.info.outputs.iter().any(|o| o.name == *name) {
                        c.err(
                            at,
                            format!("step `{id}`, input `{input}`: step `{step}` (plugin `{}`) has no output `{name}`", p.info.name),
                            Some(format!("its outputs are {}", list(p.info.outputs.iter().map(|o| &o.name)))),
                        );
                    }
                }
            }
        }
    }
}

/// Refuses dependency cycles, naming the loop.
fn check_cycles(c: &mut Checker<'_>, file: &FlowFile, steps: &[PlannedStep]) {
    let n = file.steps.len();
    let mut deps: Vec<Vec<usize>> = vec![Vec::new(); n];
    for s in steps {
        deps[s.index] = s.deps.clone();
    }
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut mark = vec![Mark::New; n];
    let mut stack: Vec<usize> = Vec::new();
    fn visit(v: usize, deps: &[Vec<usize>], mark: &mut [Mark], stack: &mut Vec<usize>) -> Option<Vec<usize>> {
        mark[v] = Mark::Open;
        stack.push(v);
        for &d in &deps[v] {
            match mark[d] {
                Mark::Open => {
                    let from = stack.iter().position(|&x| x == d).unwrap();
                    let mut cycle = stack[from..].to_vec();
                    cycle.push(d);
                    return Some(cycle);
                }
                Mark::New => {
                    if let Some(cy) = visit(d, deps, mark, stack) {
                        return Some(cy);
                    }
                }
                Mark::Done => {}
            }
        }
        stack.pop();
        mark[v] = Mark::Done;
        None
    }
    for v in 0..n {
        if mark[v] == Mark::New {
            if let Some(cycle) = visit(v, &deps, &mut mark, &mut stack) {
                let names: Vec<&str> = cycle.iter().rev().map(|&i| file.steps[i].get_ref().id.get_ref().as_str()).collect();
                let first = *cycle.iter().min().unwrap();
                c.err(
                    file.steps[first].span().start,
                    format!("steps depend on each other in a cycle: {}", names.join(" → ")),
                    Some("a step can use only outputs of steps that do not (directly or through others) use its own".into()),
                );
                return;
            }
        }
    }
}
