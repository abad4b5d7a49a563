//! `heapdiff retainers FILE --id ID`: the Retainers pane of one object.

use std::path::PathBuf;

use clap::Args;

use super::output;
use super::{EXIT_OK, Format};
use crate::report::retainers;

#[derive(Args, Debug)]
pub struct RetainersArgs {
    pub file: PathBuf,
    /// V8 object id (the @id DevTools shows).
    #[arg(long)]
    pub id: u32,
    /// Levels of retainers to expand.
    #[arg(long, default_value_t = 8)]
    pub depth: usize,
    /// Retainers listed per object (DevTools shows 25, then "Show more").
    #[arg(long, default_value_t = 25)]
    pub limit: usize,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

pub fn run(args: &RetainersArgs) -> Result<i32, String> {
    let loaded = super::summary::open(&args.file)?;
    let Some(node) = loaded.snapshot.node_for_id(args.id) else {
        return Err(format!(
            "{}: no object with id @{}",
            loaded.snapshot.file_name, args.id
        ));
    };
    output::warn(loaded.warnings());
    let report = retainers::build(&loaded, node, args.depth, args.limit);
    let text = match args.format {
        Format::Json => serde_json::to_string_pretty(&report).map_err(|e| e.to_string())? + "\n",
        Format::Table => retainers::table(&report),
    };
    output::emit(&text, None)?;
    Ok(EXIT_OK)
}
