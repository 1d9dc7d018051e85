//! `aksflow plugins …`

use clap::Subcommand;

use crate::bindings::StepInfo;
use crate::engine::StepEngine;
use crate::plugins;

#[derive(Subcommand, Debug)]
pub enum PluginsCommand {
    /// List the built-in plugins with their inputs, outputs and the services they call
    List {
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(cmd: PluginsCommand) -> i32 {
    let PluginsCommand::List { json } = cmd;
    let engine = match StepEngine::new(super::cache_dir()) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: cannot start the WebAssembly engine: {e:#}");
            return 2;
        }
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
