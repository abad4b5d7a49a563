mod common;

use heapdiff::diff::{self, Comparison};
use heapdiff::loaded::Loaded;

fn open(pair: &str) -> (Loaded, Loaded, Comparison) {
    let (before, after, _) = diff::open_pair(
        &common::fixture(&format!("{pair}.before.heapsnapshot")),
        &common::fixture(&format!("{pair}.after.heapsnapshot")),
        None,
        Default::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let c = diff::compare(&before, &after, None);
    (before, after, c)
}

#[test]
fn explore() {
    for pair in [
        "ssr-di-leak",
        "no-leak-control",
        "cache-growth",
        "listener-closure",
        "detached-dom",
    ] {
        eprintln!("==== {pair}");
        let (_b, _a, c) = open(pair);
        for s in &c.suspects {
            if s.added_count >= 100 {
                for p in s.paths.iter().take(2) {
                    let steps: Vec<String> = p
                        .steps
                        .iter()
                        .map(|s| format!("{}:{}({})", s.edge_type, s.edge_name, s.class_name))
                        .collect();
                    eprintln!(
                        "      {} {} {}",
                        p.count,
                        p.retained_size,
                        steps.join(" <- ")
                    );
                }
            }
        }
    }
}
