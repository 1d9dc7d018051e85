//! `aksflow plugins …`

use clap::Subcommand;

use crate::bindings::StepInfo;
use crate::plugins;

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
        println!("{}", serde_json::to_string_pretty(&infos).expect("plugin infos serialise"));
        return 0;
    }
    for info in &infos {
        println!("{}  —  {}", info.name, info.summary);
        let services: Vec<&str> = info.services.iter().map(|s| s.name()).collect();
        println!("  services: {}", if services.is_empty() { "(none)".to_string() } else { services.join(", ") });
        println!("  inputs:");
        for i in &info.inputs {
            let mut flags = vec![i.kind.name().to_string()];
            flags.push(if i.required { "required".into() } else { "optional".into() });
            if i.secret {
                flags.push("secret".into());
            }
            println!("    {:<20} {} ({})", i.name, i.description, flags.join(", "));
        }
        println!("  outputs:");
        for o in &info.outputs {
            println!("    {:<20} {}{}", o.name, o.description, if o.secret { " (secret)" } else { "" });
        }
        println!();
    }
    0
}

fn new(name: &str, dir: &std::path::Path) -> i32 {
    match crate::scaffold::new_plugin(name, dir) {
        Ok(root) => {
            println!("created {}", root.display());
            println!("\nnext:");
            println!("  cd {}", root.display());
            println!("  cargo build --release --target wasm32-wasip2");
            println!("  aksflow run flow.toml");
            println!("\nThe step is in src/lib.rs; docs/plugins.md in the aksflow repository explains the contract.");
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}
