//! The HTML report in a real browser: headless Chromium loads it from disk with the network
//! off, and the rendered DOM must show the suspect table and sort it.

mod common;

use std::path::Path;
use std::process::Command;

use heapdiff::{diff, report};

const CHROMIUM: [&str; 2] = ["/usr/bin/chromium", "/usr/bin/chromium-browser"];

/// The browser; its absence fails the test (a skipped check would pass without checking).
fn chromium() -> &'static str {
    CHROMIUM
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap_or_else(|| {
            panic!(
                "chromium is not installed (looked for {}): `bash .ci/run` installs it",
                CHROMIUM.join(", ")
            )
        })
}

fn dump_dom(browser: &str, url: &str) -> String {
    let profile = tempdir("heapdiff-chromium");
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            // The report must not need the network: make any request fail.
            "--proxy-server=127.0.0.1:9",
            "--virtual-time-budget=2000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--dump-dom", url])
        .output()
        .expect("run chromium");
    let _ = std::fs::remove_dir_all(&profile);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn tempdir(prefix: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("{prefix}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// First data row's constructor cell in a dumped DOM.
fn first_row(dom: &str) -> String {
    let body = &dom[dom.find("<tbody>").expect("table body")..];
    let cell = &body[body.find("<td data-sort=\"").expect("row") + 15..];
    cell[..cell.find('"').unwrap_or(0)].to_string()
}

#[test]
fn html_report_renders_and_sorts_in_chromium() {
    let browser = chromium();
    let before = common::fixture("ssr-di-leak.before.heapsnapshot");
    let after = common::fixture("ssr-di-leak.after.heapsnapshot");
    let (b, a, _) = common::open_pair(&before, &after).expect("load pair");
    let comparison = diff::compare(&b, &a, None);
    let findings = report::build(&comparison, &b, &a, None, report::ReportOptions::default());
    let html = report::html::render(&findings);
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no network references"
    );
    let dir = tempdir("heapdiff-report");
    let file = dir.join("report.html");
    std::fs::write(&file, &html).unwrap();
    let url = format!("file://{}", file.display());

    let dom = dump_dom(browser, &url);
    assert!(dom.contains("id=\"classes\""), "the class table rendered");
    let leaks = &dom[dom.find("id=\"leaks\"").expect("leaks section")..];
    let first_leak = &leaks[..leaks.find("</h3>").expect("a leak")];
    assert!(
        first_leak.contains("ChildContainer") && first_leak.contains("bus._events.config"),
        "{first_leak}"
    );
    assert_eq!(
        first_row(&dom),
        findings
            .classes
            .iter()
            .max_by_key(|c| c.size_delta)
            .unwrap()
            .name
    );

    // Sorting by "# New" (column 1), descending, through the page's own script.
    let sorted = dump_dom(browser, &format!("{url}#sort=1"));
    let most_new = findings
        .classes
        .iter()
        .map(|c| c.added_count)
        .max()
        .unwrap();
    let expected: Vec<&str> = findings
        .classes
        .iter()
        .filter(|c| c.added_count == most_new)
        .map(|c| c.name.as_str())
        .collect();
    assert!(
        expected.contains(&first_row(&sorted).as_str()),
        "{} not in {expected:?}",
        first_row(&sorted)
    );
    assert!(sorted.contains("aria-sort=\"descending\""));
    let _ = std::fs::remove_dir_all(&dir);
}
