//! `aksflow plugins …`

use clap::Subcommand;

use crate::bindings::StepInfo;
use crate::plugins;
use super::out::out;

#[derive(Subcommand, Debug)]
pub enum PluginsCommand {
    /// List the built-in plugins with their inputs, outputs and the services they call
    List {
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// Create a new step plugin crate that builds as it is (with the SDK vendored)
    New {
        /// The plugin's name: lower-case letters, digits and `-`
        name: String,
        /// Where to create it
        #[arg(long, default_value = ".")]
        dir: std::path::PathBuf,
    },
}

pub async fn run(cmd: PluginsCommand) -> i32 {
    let json = match cmd {
        PluginsCommand::List { json } => json,
        PluginsCommand::New { name, dir } => return new(&name, &dir),
    };
    let engine = match super::start_engine() {
        Ok(e) => e,
        Err(code) => return code,
    };
    let mut infos: Vec<StepInfo> = Vec::new();
    for name in plugins::builtin_names() {
        match plugins::resolve(&engine, &plugins::PluginRef::Builtin(name.into())).await {
            Ok(p) => infos.push(p.info.clone()),
            Err(e) => {
                eprintln!("error: built-in plugin {name}: {e}");
                return 2;
            }
        }
    }
    if json {
        out!("{}", serde_json::to_string_pretty(&infos).expect("plugin infos serialise"));
        return 0;
    }
    for info in &infos {
        out!("{}  —  {}", info.name, info.summary);
        let services: Vec<&str> = info.services.iter().map(|s| s.name()).collect();
        out!("  services: {}", if services.is_empty() { "(none)".to_string() } else { services.join(", ") });
        out!("  inputs:");
        for i in &info.inputs {
            let mut flags = vec![i.kind.name().to_string()];
            flags.push(if i.required { "required".into() } else { "optional".into() });
            if i.secret {
                flags.push("secret".into());
            }
            out!("    {:<20} {} ({})", i.name, i.description, flags.join(", "));
        }
        out!("  outputs:");
        for o in &info.outputs {
            out!("    {:<20} {}{}", o.name, o.description, if o.secret { " (secret)" } else { "" });
        }
        out!();
    }
    0
}

fn new(name: &str, dir: &std::path::Path) -> i32 {
    match crate::scaffold::new_plugin(name, dir) {
        Ok(root) => {
            out!("created {}", root.display());
            out!("\nnext:");
            out!("  cd {}", root.display());
            out!("  cargo build --release --target wasm32-wasip2");
            out!("  aksflow run flow.toml");
            out!("\nThe step is in src/lib.rs; docs/plugins.md in the aksflow repository explains the contract.");
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}
