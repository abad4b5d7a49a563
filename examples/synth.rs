//! Writes a synthetic V8 heap snapshot of any size, streamed (see `heapdiff::testkit::generate`).
//!
//! ```sh
//! cargo run --release --example synth -- --nodes 60000000 --out before.heapsnapshot --before
//! cargo run --release --example synth -- --nodes 60000000 --out after.heapsnapshot --leak 100000
//! heapdiff diff before.heapsnapshot after.heapsnapshot   # LeakedSession: +100000
//! ```
//!
//! A pair made with the same `--nodes` and `--seed` shares its objects with equal V8 ids; the
//! after snapshot (no `--before`) adds `--leak` `LeakedSession` objects held by
//! `global.sessions` and replaces `--churn` percent of the ordinary objects by new ones.
//! `--pad CHARS` lengthens every object's string, e.g. to push the string table past 2^32 bytes
//! (`--nodes 80000000 --pad 450`: about 4.5 GB of strings).

use std::io::{BufWriter, Write};
use std::time::Instant;

use heapdiff::testkit::{Config, write};

fn usage() -> ! {
    eprintln!(
        "usage: synth --nodes N --out FILE [--leak K] [--seed S] [--churn PERCENT] [--pad CHARS] [--before]"
    );
    std::process::exit(2);
}

fn main() {
    let mut nodes = None;
    let mut out = None;
    let mut leak = 0u64;
    let mut seed = 1u64;
    let mut churn = 5u64;
    let mut before = false;
    let mut pad = 0u64;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| usage());
        let number = |s: String| {
            s.replace('_', "")
                .parse::<u64>()
                .unwrap_or_else(|_| usage())
        };
        match a.as_str() {
            "--nodes" => nodes = Some(number(value())),
            "--out" => out = Some(value()),
            "--leak" => leak = number(value()),
            "--seed" => seed = number(value()),
            "--churn" => churn = number(value()).min(100),
            "--pad" => pad = number(value()),
            "--before" => before = true,
            _ => usage(),
        }
    }
    let (Some(nodes), Some(out)) = (nodes, out) else {
        usage()
    };
    let mut config = Config::with_nodes(nodes, seed);
    config.churn_percent = churn;
    config.string_pad = pad;
    if !before {
        config.after = true;
        config.leak = leak;
    }
    // V8 ids are u32 and churned nodes take ids above 2 * node_count.
    if config.node_count() > 1_000_000_000 {
        eprintln!("synth: at most 1,000,000,000 nodes");
        std::process::exit(2);
    }
    let file = std::fs::File::create(&out).unwrap_or_else(|e| {
        eprintln!("synth: {out}: {e}");
        std::process::exit(2);
    });
    let mut w = BufWriter::with_capacity(8 << 20, file);
    let start = Instant::now();
    let stats = write(&config, &mut w).and_then(|s| w.flush().map(|_| s));
    let stats = stats.unwrap_or_else(|e| {
        eprintln!("synth: {out}: {e}");
        std::process::exit(2);
    });
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{out}: {} nodes, {} edges, {} strings, {} bytes, {} leaked, {} churned units in {:.2} s ({:.0} MB/s)",
        stats.nodes,
        stats.edges,
        stats.strings,
        stats.bytes,
        config.leak,
        stats.churned,
        secs,
        stats.bytes as f64 / 1e6 / secs
    );
}
