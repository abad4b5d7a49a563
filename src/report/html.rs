//! One self-contained HTML file: no network, no external assets. Every string from a snapshot
//! passes through [`escape`]; the script only reorders rows the page already has, reading
//! numbers from `data-sort` attributes, so no snapshot text ever reaches JavaScript.

use std::fmt::Write;

use super::{Findings, Leak, Path, text};
use crate::format;

const TOP_CLASSES_CHART: usize = 12;
/// Parts of a leak's composition listed.
const PARTS: usize = 10;

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => {
                let _ = write!(out, "&#x{:x};", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1200px;padding:0 1rem;color:#1d2330;background:#fbfbfd}
h1{font-size:1.5rem;margin:0 0 .3rem} h2{font-size:1.15rem;margin:2rem 0 .6rem;border-bottom:1px solid #dde1ea;padding-bottom:.3rem}
.files{color:#556;margin:0 0 1rem} .files b{color:#1d2330}
.suspect{background:#fff;border:1px solid #e2e5ee;border-left:4px solid #d9480f;border-radius:6px;padding:.7rem 1rem;margin:.6rem 0}
.suspect h3{margin:0 0 .3rem;font-size:1.05rem} .muted{color:#667}
details{margin:.15rem 0 .15rem 1.1rem} summary{cursor:pointer} .count{font-weight:600;color:#d9480f}
.edge{color:#364fc7;font-family:ui-monospace,monospace} .cls{font-weight:600}
table{border-collapse:collapse;width:100%;background:#fff} th,td{padding:.3rem .5rem;border-bottom:1px solid #eef0f5}
th{cursor:pointer;text-align:left;background:#f1f3f8;position:sticky;top:0;user-select:none} th.num,td.num{text-align:right;font-variant-numeric:tabular-nums}
th[aria-sort=ascending]::after{content:" ▲"} th[aria-sort=descending]::after{content:" ▼"}
tr.suspect-row td:first-child{border-left:4px solid #d9480f} .pos{color:#c92a2a} .neg{color:#2b8a3e}
svg text{font:12px system-ui,sans-serif} input{font:inherit;padding:.25rem .5rem;margin:.3rem 0 .6rem;width:18rem}
"#;

/// Sorting and filtering without any data in the script: rows carry their own sort keys.
const SCRIPT: &str = r#"
(function(){
  var table=document.getElementById('classes'); if(!table) return;
  var body=table.tBodies[0]; var heads=table.tHead.rows[0].cells;
  Array.prototype.forEach.call(heads,function(th,col){
    th.addEventListener('click',function(){
      var desc=th.getAttribute('aria-sort')!=='descending';
      Array.prototype.forEach.call(heads,function(h){h.removeAttribute('aria-sort');});
      th.setAttribute('aria-sort',desc?'descending':'ascending');
      var rows=Array.prototype.slice.call(body.rows);
      var numeric=th.classList.contains('num');
      rows.sort(function(a,b){
        var x=a.cells[col].getAttribute('data-sort'), y=b.cells[col].getAttribute('data-sort');
        var r=numeric?(parseFloat(x)-parseFloat(y)):(x<y?-1:x>y?1:0);
        return desc?-r:r;
      });
      rows.forEach(function(r){body.appendChild(r);});
    });
  });
  // A link can carry a sort: #sort=3 sorts by the fourth column, descending (#sort=3-asc up).
  var m=/sort=(\d+)(-asc)?/.exec(location.hash);
  if(m&&heads[+m[1]]){ heads[+m[1]].click(); if(m[2]) heads[+m[1]].click(); }
  var filter=document.getElementById('filter');
  if(filter) filter.addEventListener('input',function(){
    var q=filter.value.toLowerCase();
    Array.prototype.forEach.call(body.rows,function(r){
      r.style.display=r.cells[0].getAttribute('data-sort').toLowerCase().indexOf(q)>=0?'':'none';
    });
  });
})();
"#;

pub fn render(f: &Findings) -> String {
    let mut h = String::new();
    let title = format!("heapdiff: {} → {}", f.before.file, f.after.file);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{}</title><style>{STYLE}</style></head><body>\n",
        escape(&title)
    );
    let _ = writeln!(h, "<h1>Heap comparison</h1>");
    h.push_str("<p class=\"files\">");
    for (label, info) in [
        ("Before", Some(&f.before)),
        ("After", Some(&f.after)),
        ("Final", f.final_.as_ref()),
    ] {
        if let Some(i) = info {
            let _ = write!(
                h,
                "<b>{label}</b>: {} ({} file, {} heap, {} objects{})<br>",
                escape(&i.file),
                format::bytes(i.bytes),
                format::bytes(i.total_size),
                format::thousands(i.node_count),
                i.modified
                    .as_deref()
                    .map(|m| format!(", {}", escape(m)))
                    .unwrap_or_default()
            );
        }
    }
    let _ = writeln!(h, "<b>Change</b>: {}</p>", super::change_line(&f.totals));

    if !f.warnings.is_empty() {
        h.push_str("<h2 id=\"warnings\">Warnings</h2>\n<ul>");
        for w in &f.warnings {
            let _ = write!(h, "<li>{}</li>", escape(w));
        }
        h.push_str("</ul>\n");
    }
    h.push_str("<h2 id=\"leaks\">Likely leaks</h2>\n");
    let likely: Vec<&Leak> = text::likely(&f.leaks).collect();
    if likely.is_empty() {
        h.push_str("<p>No likely leaks: nothing that survived between the snapshots looks like a leak.</p>\n");
    }
    for (i, leak) in likely.iter().enumerate() {
        leak_card(&mut h, i, leak);
    }

    h.push_str("<h2>Biggest growth</h2>\n");
    chart(&mut h, f);

    h.push_str("<h2>All changes</h2>\n<input id=\"filter\" type=\"search\" placeholder=\"Filter constructors\" aria-label=\"Filter constructors\">\n");
    classes_table(&mut h, f);
    let _ = write!(
        h,
        "<p class=\"muted\">{}; string contents {}.</p>\n<script>{SCRIPT}</script></body></html>\n",
        escape(&f.generator),
        if f.strings_included {
            "included"
        } else {
            "redacted"
        }
    );
    h
}

/// One leak as a card: the sentence, the holder's growth, the composition and the path.
fn leak_card(h: &mut String, i: usize, leak: &Leak) {
    let _ = write!(
        h,
        "<div class=\"suspect\"><h3>{}. {}</h3><div class=\"muted\">{} new objects under {} entry objects, retaining {}</div>",
        i + 1,
        text::spans(&leak.sentence, &escape, &|s| format!(
            "<code>{}</code>",
            escape(s)
        )),
        format::thousands(leak.new_count),
        format::thousands(leak.roots),
        format::bytes(leak.retained_size)
    );
    if let Some(holder) = &leak.holder {
        let _ = write!(
            h,
            "<p>Holder: {}</p>",
            text::holder_line(holder, "", &|s| escape(s))
        );
    }
    if let Some(site) = &leak.allocation_site {
        let _ = write!(h, "<p>{}</p>", escape(&text::site_line(site)));
    }
    if let Some(line) = text::context_line(&leak.context_variables) {
        let _ = write!(h, "<p>{}</p>", escape(&line));
    }
    h.push_str("<table class=\"parts\"><thead><tr><th>New objects</th><th class=\"num\">Count</th><th class=\"num\">Self size</th><th>Defined at</th></tr></thead><tbody>");
    for part in leak.composition.iter().take(PARTS) {
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"muted\">{}</td></tr>",
            escape(&part.name),
            format::thousands(part.count),
            format::bytes(part.self_size),
            part.location
                .as_ref()
                .map(|l| escape(&l.short()))
                .unwrap_or_default()
        );
    }
    if leak.composition.len() > PARTS {
        let _ = write!(
            h,
            "<tr><td class=\"muted\" colspan=\"4\">… {} more classes</td></tr>",
            format::thousands((leak.composition.len() - PARTS) as u64)
        );
    }
    h.push_str("</tbody></table>");
    let start = leak.holder.as_ref().map_or("the entries".to_string(), |h| {
        format!("{} @{}", h.class_name, h.id)
    });
    let path = Path {
        count: leak.roots,
        retained_size: leak.retained_size,
        steps: leak.path.steps.clone(),
        example: None,
    };
    path_tree(h, &start, std::slice::from_ref(&path));
    h.push_str("</div>\n");
}

/// Merged paths drawn as one collapsible tree: paths that share their first steps share nodes,
/// and each node shows how many objects pass through it. Built from a flat trie, written with
/// an explicit stack (a path can be thousands of steps long).
fn path_tree(h: &mut String, class: &str, paths: &[Path]) {
    struct TrieNode {
        label: (String, String, String),
        count: u64,
        children: Vec<usize>,
    }
    let mut nodes = vec![TrieNode {
        label: Default::default(),
        count: 0,
        children: Vec::new(),
    }];
    for p in paths {
        nodes[0].count += p.count;
        let mut at = 0;
        for st in &p.steps {
            let repeat = if st.repeat > 1 {
                format!(" ×{}", format::thousands(st.repeat))
            } else {
                String::new()
            };
            let label = (
                st.edge_type.clone(),
                st.edge_name.clone(),
                format!("{}{repeat}", st.class_name),
            );
            let found = nodes[at]
                .children
                .iter()
                .copied()
                .find(|&c| nodes[c].label == label);
            let next = match found {
                Some(c) => c,
                None => {
                    nodes.push(TrieNode {
                        label,
                        count: 0,
                        children: Vec::new(),
                    });
                    let c = nodes.len() - 1;
                    nodes[at].children.push(c);
                    c
                }
            };
            nodes[next].count += p.count;
            at = next;
        }
    }
    let _ = write!(
        h,
        "<details open><summary><span class=\"count\">×{}</span> <span class=\"cls\">{}</span></summary>",
        format::thousands(nodes[0].count),
        escape(class)
    );
    enum Item {
        Open(usize),
        Close,
    }
    let mut stack: Vec<Item> = nodes[0]
        .children
        .iter()
        .rev()
        .map(|&c| Item::Open(c))
        .collect();
    while let Some(item) = stack.pop() {
        match item {
            Item::Open(n) => {
                let (ty, name, cls) = &nodes[n].label;
                let _ = write!(
                    h,
                    "<details open><summary><span class=\"count\">×{}</span> ← <span class=\"edge\">{}</span> <span class=\"muted\">{}</span> in <span class=\"cls\">{}</span></summary>",
                    format::thousands(nodes[n].count),
                    escape(name),
                    escape(ty),
                    escape(cls)
                );
                stack.push(Item::Close);
                stack.extend(nodes[n].children.iter().rev().map(|&c| Item::Open(c)));
            }
            Item::Close => h.push_str("</details>"),
        }
    }
    h.push_str("</details>");
}

/// A horizontal bar chart of the classes with the largest size growth, as inline SVG.
fn chart(h: &mut String, f: &Findings) {
    let mut rows: Vec<&super::ClassRow> = f.classes.iter().filter(|c| c.size_delta > 0).collect();
    rows.sort_by_key(|c| std::cmp::Reverse(c.size_delta));
    rows.truncate(TOP_CLASSES_CHART);
    if rows.is_empty() {
        h.push_str("<p>No class grew.</p>\n");
        return;
    }
    let max = rows[0].size_delta.max(1) as f64;
    let (label_w, bar_w, row_h) = (260.0, 600.0, 22.0);
    let height = row_h * rows.len() as f64 + 8.0;
    let _ = write!(
        h,
        "<svg role=\"img\" aria-label=\"Biggest growth by size\" width=\"{}\" height=\"{height}\" viewBox=\"0 0 {} {height}\">",
        label_w + bar_w + 120.0,
        label_w + bar_w + 120.0
    );
    for (i, c) in rows.iter().enumerate() {
        let y = i as f64 * row_h + 4.0;
        let w = (c.size_delta as f64 / max * bar_w).max(1.0);
        let name: String = c.name.chars().take(36).collect();
        let _ = write!(
            h,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text><rect x=\"{label_w}\" y=\"{y}\" width=\"{w:.1}\" height=\"{}\" fill=\"#d9480f\" rx=\"2\"/><text x=\"{}\" y=\"{}\">{}</text>",
            label_w - 6.0,
            y + 14.0,
            escape(&name),
            row_h - 6.0,
            label_w + w + 6.0,
            y + 14.0,
            format::signed_bytes(c.size_delta)
        );
    }
    h.push_str("</svg>\n");
}

fn classes_table(h: &mut String, f: &Findings) {
    let suspects: std::collections::HashSet<&str> = text::likely(&f.leaks)
        .flat_map(|l| l.composition.iter().map(|p| p.class_key.as_str()))
        .chain(f.suspects.iter().map(|s| s.class_key.as_str()))
        .collect();
    h.push_str("<table id=\"classes\"><thead><tr><th>Constructor</th><th class=\"num\"># New</th><th class=\"num\"># Deleted</th><th class=\"num\"># Delta</th><th class=\"num\">Alloc. Size</th><th class=\"num\">Freed Size</th><th class=\"num\" aria-sort=\"descending\">Size Delta</th><th class=\"num\">Retained by new</th></tr></thead><tbody>\n");
    let mut rows: Vec<&super::ClassRow> = f.classes.iter().collect();
    rows.sort_by(|a, b| {
        b.size_delta
            .cmp(&a.size_delta)
            .then_with(|| a.name.cmp(&b.name))
    });
    for c in rows {
        let class = if suspects.contains(c.class_key.as_str()) {
            " class=\"suspect-row\""
        } else {
            ""
        };
        let sign = |v: i64| {
            if v > 0 {
                "pos"
            } else if v < 0 {
                "neg"
            } else {
                ""
            }
        };
        let _ = writeln!(
            h,
            "<tr{class}><td data-sort=\"{name}\">{name}</td><td class=\"num\" data-sort=\"{}\">{}</td><td class=\"num\" data-sort=\"{}\">{}</td><td class=\"num {}\" data-sort=\"{}\">{}</td><td class=\"num\" data-sort=\"{}\">{}</td><td class=\"num\" data-sort=\"{}\">{}</td><td class=\"num {}\" data-sort=\"{}\">{}</td><td class=\"num\" data-sort=\"{}\">{}</td></tr>",
            c.added_count,
            format::thousands(c.added_count),
            c.removed_count,
            format::thousands(c.removed_count),
            sign(c.count_delta),
            c.count_delta,
            format::signed_thousands(c.count_delta),
            c.added_size,
            format::bytes(c.added_size),
            c.removed_size,
            format::bytes(c.removed_size),
            sign(c.size_delta),
            c.size_delta,
            format::signed_bytes(c.size_delta),
            c.added_retained_size,
            format::bytes(c.added_retained_size),
            name = escape(&c.name),
        );
    }
    h.push_str("</tbody></table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape("\"><img onerror=x>"),
            "&quot;&gt;&lt;img onerror=x&gt;"
        );
        assert_eq!(escape("<script>'"), "&lt;script&gt;&#39;");
        assert_eq!(escape("a\u{1}b"), "a&#x1;b");
    }
}
