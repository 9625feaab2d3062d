//! The book in `docs/` and the README, the front door that points into it:
//! the book builds with the pinned mdbook (installed by scripts/test.sh into
//! the build tree) without a warning or an error, and every `{{#include}}` it
//! takes from `examples/` is there; every internal link of the book and the
//! README reaches a file that exists and, with `#anchor`, a heading of it
//! (mdBook's id rules); and the README's handler code is a contiguous excerpt
//! of a file under `examples/`, so the front door shows code that builds.

mod support;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Component, Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use support::run_bounded;

/// The workspace's root.
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("the workspace root")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// The mdbook that scripts/lib/tools.sh installs (`ensure_mdbook`), or
/// `PUSH_HOST_MDBOOK`.
fn mdbook() -> PathBuf {
    if let Some(path) = std::env::var_os("PUSH_HOST_MDBOOK") {
        return PathBuf::from(path);
    }
    let root = root();
    let tools = read(&root.join("scripts/lib/tools.sh"));
    let version = tools
        .lines()
        .find_map(|l| l.strip_prefix("MDBOOK_VERSION="))
        .expect("MDBOOK_VERSION= in scripts/lib/tools.sh")
        .trim();
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let path = target.join(format!("tools/mdbook-{version}/bin/mdbook"));
    assert!(
        path.exists(),
        "{} not found: scripts/test.sh (or scripts/build-book.sh) installs mdbook {version}",
        path.display()
    );
    path
}

/// The book's chapters and the README (and ARCHITECTURE.md, which the book
/// includes): every Markdown file whose links are checked.
fn markdown_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
            .map(|e| e.expect("a directory entry").path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    let root = root();
    let mut files = Vec::new();
    walk(&root.join("docs/src"), &mut files);
    assert!(files.len() > 1, "no chapters in docs/src");
    files.push(root.join("README.md"));
    files.push(root.join("ARCHITECTURE.md"));
    files
}

/// A fenced code block: its info string, the line of its opening fence
/// (1-based) and its lines.
struct Fence {
    info: String,
    line: usize,
    lines: Vec<String>,
}

/// Splits Markdown into its fenced code blocks and the rest (the text, with
/// each fenced line blanked so line numbers stay right).
fn split_fences(text: &str) -> (Vec<Fence>, String) {
    let mut fences = Vec::new();
    let mut prose = String::new();
    let mut open: Option<(char, usize, Fence)> = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let marker = trimmed.chars().next().filter(|c| *c == '`' || *c == '~');
        let run = marker.map_or(0, |c| trimmed.chars().take_while(|x| *x == c).count());
        match &mut open {
            None if run >= 3 => {
                let fence = Fence {
                    info: trimmed[run..].trim().to_string(),
                    line: i + 1,
                    lines: Vec::new(),
                };
                open = Some((marker.unwrap(), run, fence));
                prose.push('\n');
            }
            None => {
                prose.push_str(line);
                prose.push('\n');
            }
            Some((c, n, fence)) => {
                if marker == Some(*c) && run >= *n && trimmed[run..].trim().is_empty() {
                    fences.push(open.take().unwrap().2);
                } else {
                    fence.lines.push(line.to_string());
                }
                prose.push('\n');
            }
        }
    }
    (fences, prose)
}

/// `text` with its code spans blanked (a run of N backticks up to the next
/// run of exactly N; across lines too), newlines kept.
fn strip_code_spans(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '`' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let n = chars[i..].iter().take_while(|c| **c == '`').count();
        let mut j = i + n;
        let mut close = None;
        while j < chars.len() {
            if chars[j] == '`' {
                let m = chars[j..].iter().take_while(|c| **c == '`').count();
                if m == n {
                    close = Some(j + m);
                    break;
                }
                j += m;
            } else {
                j += 1;
            }
        }
        match close {
            Some(end) => {
                out.extend(chars[i..end].iter().map(|c| if *c == '\n' { '\n' } else { ' ' }));
                i = end;
            }
            None => {
                out.extend(&chars[i..i + n]);
                i += n;
            }
        }
    }
    out
}

/// mdBook's heading id (mdbook-html's `id_from_content`, applied to the
/// heading as rendered): Markdown links become their text, code spans their
/// content, `--`/`---` outside code become dashes (smart punctuation) and so
/// vanish; then lowercase, whitespace to `-`, and every character that is
/// not alphanumeric, `_` or `-` dropped.
fn heading_id(heading: &str) -> String {
    let mut rendered = String::new();
    for (k, part) in heading.split('`').enumerate() {
        if k % 2 == 1 {
            rendered.push_str(part);
        } else {
            let mut text = part.replace("---", "\u{2014}").replace("--", "\u{2013}");
            // [text](target) -> text
            while let Some(start) = text.find("](") {
                let Some(len) = text[start..].find(')') else { break };
                text.replace_range(start..start + len + 1, "");
            }
            rendered.push_str(&text.replace(['*', '['], ""));
        }
    }
    rendered
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            c if c.is_alphanumeric() || c == '_' || c == '-' => Some(c),
            c if c.is_whitespace() => Some('-'),
            _ => None,
        })
        .collect()
}

/// The ids of a Markdown file's headings, as mdBook makes them unique on a
/// page (`-1`, `-2`, ... for repeats). Whole-file `{{#include}}`s of
/// Markdown (the layout chapter's ARCHITECTURE.md) count as the page's.
fn heading_ids(path: &Path) -> Vec<String> {
    let mut used = HashSet::new();
    let mut ids = Vec::new();
    for heading in headings(path) {
        let id = heading_id(&heading);
        let mut unique = id.clone();
        let mut n = 0;
        while !used.insert(unique.clone()) {
            n += 1;
            unique = format!("{id}-{n}");
        }
        ids.push(unique);
    }
    ids
}

fn headings(path: &Path) -> Vec<String> {
    let (_, prose) = split_fences(&read(path));
    let mut out = Vec::new();
    for line in prose.lines() {
        let hashes = line.chars().take_while(|c| *c == '#').count();
        if (1..=6).contains(&hashes) && line[hashes..].starts_with(' ') {
            out.push(line[hashes..].trim().trim_end_matches('#').trim().to_string());
        }
        if let Some(include) = include_target(line.trim()) {
            let (file, selector) = include;
            let target = path.parent().unwrap().join(file);
            if selector.is_none() && file.ends_with(".md") && target.exists() {
                out.extend(headings(&target));
            }
        }
    }
    out
}

/// `{{#include FILE}}` or `{{#include FILE:SELECTOR}}` -> (FILE, SELECTOR).
fn include_target(text: &str) -> Option<(&str, Option<&str>)> {
    let inner = text.strip_prefix("{{#include ")?.strip_suffix("}}")?.trim();
    Some(match inner.split_once(':') {
        Some((file, selector)) => (file, Some(selector)),
        None => (inner, None),
    })
}

/// The `{{#include ...}}` directives in a file, with their line numbers.
fn includes(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(start) = rest.find("{{#include ") {
            let Some(len) = rest[start..].find("}}") else { break };
            out.push((i + 1, rest[start..start + len + 2].to_string()));
            rest = &rest[start + len + 2..];
        }
    }
    out
}

/// The link targets in a Markdown file's text (not in code), with their
/// line numbers: inline links and images `[text](target "title")`, and
/// reference definitions `[label]: target`.
fn links(text: &str) -> Vec<(usize, String)> {
    let (_, prose) = split_fences(text);
    let prose = strip_code_spans(&prose);
    let mut out = Vec::new();
    for (i, line) in prose.lines().enumerate() {
        let mut rest = line;
        while let Some(start) = rest.find("](") {
            let after = &rest[start + 2..];
            let Some(end) = after.find(')') else { break };
            let target = after[..end].trim();
            let target = target.split_once(char::is_whitespace).map_or(target, |(t, _)| t);
            out.push((i + 1, target.trim_start_matches('<').trim_end_matches('>').to_string()));
            rest = &after[end..];
        }
        let trimmed = line.trim_start();
        if trimmed.starts_with('[')
            && let Some((_, target)) = trimmed.split_once("]: ")
        {
            let target = target.split_whitespace().next().unwrap_or_default();
            out.push((i + 1, target.to_string()));
        }
    }
    out
}

/// `path` with `.` and `..` resolved, without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root()).unwrap_or(path).display().to_string()
}

/// Runs the pinned mdbook on `docs/` into a scratch directory: it must
/// succeed and print neither a warning nor an error (a missing
/// `{{#include}}` file is one). Every include must name a file that exists
/// (and an anchor it has), no directive may be left unexpanded, and the
/// heading ids this test computes must be the ones mdbook wrote.
#[test]
fn the_book_builds_without_warnings() {
    let root = root();
    let src = root.join("docs/src");
    let mut problems = Vec::new();

    for file in markdown_files().iter().filter(|f| f.starts_with(&src)) {
        let text = read(file);
        for (line, directive) in includes(&text) {
            let Some((target, selector)) = include_target(&directive) else {
                problems.push(format!("{}:{line}: cannot read {directive}", relative(file)));
                continue;
            };
            let path = file.parent().unwrap().join(target);
            if !path.is_file() {
                problems.push(format!("{}:{line}: {directive}: no file {}", relative(file), target));
                continue;
            }
            if let Some(anchor) = selector.filter(|s| !s.chars().all(|c| c.is_ascii_digit() || c == ':')) {
                let included = read(&path);
                for mark in [format!("ANCHOR: {anchor}"), format!("ANCHOR_END: {anchor}")] {
                    if !included.lines().any(|l| l.trim_end().ends_with(&mark)) {
                        problems.push(format!(
                            "{}:{line}: {directive}: no `{mark}` in {target}",
                            relative(file)
                        ));
                    }
                }
            }
        }
    }

    let dest = std::env::temp_dir().join(format!("push-host-book-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dest);
    let output = run_bounded(
        Command::new(mdbook())
            .arg("build")
            .arg(root.join("docs"))
            .arg("--dest-dir")
            .arg(&dest),
        Duration::from_secs(120),
    );
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if !output.status.success() {
        problems.push(format!("mdbook build failed ({}):\n{printed}", output.status));
    }
    for line in printed.lines() {
        let upper = line.to_uppercase();
        if upper.contains("WARN") || upper.contains("ERROR") {
            problems.push(format!("mdbook: {}", line.trim()));
        }
    }

    if output.status.success() {
        for file in markdown_files().iter().filter(|f| f.starts_with(&src)) {
            let name = file.strip_prefix(&src).unwrap();
            if name == Path::new("SUMMARY.md") {
                continue;
            }
            let html_path = dest.join(name.with_extension("html"));
            let Ok(html) = std::fs::read_to_string(&html_path) else {
                problems.push(format!(
                    "{}: not in the built book (is it in SUMMARY.md?)",
                    relative(file)
                ));
                continue;
            };
            if html.contains("{{#") {
                problems.push(format!(
                    "{}: a {{{{#...}}}} directive was left as it is",
                    relative(file)
                ));
            }
            let written: BTreeSet<&str> = html
                .split("<h")
                .skip(1)
                .filter(|h| h.starts_with(|c: char| ('1'..='6').contains(&c)))
                .filter_map(|h| h[1..].trim_start().strip_prefix("id=\""))
                .filter_map(|h| h.split('"').next())
                .collect();
            for id in heading_ids(file) {
                if !written.contains(id.as_str()) {
                    problems.push(format!(
                        "{}: this test computes the heading id `{id}`, mdbook wrote {written:?}",
                        relative(file)
                    ));
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dest);
    assert!(problems.is_empty(), "the book:\n{}", problems.join("\n"));
}

/// Every relative link in the book and the README reaches a file that
/// exists and, with `#anchor`, a heading of that file; the book's links stay
/// in `docs/src/` (a link out of it is broken in the built book); every
/// chapter is in SUMMARY.md; and every `bench/results/...` file the text
/// names (where the figures come from) is committed.
#[test]
fn internal_links_resolve() {
    let root = root();
    let src = root.join("docs/src");
    let mut problems = Vec::new();
    let mut ids: HashMap<PathBuf, Vec<String>> = HashMap::new();
    let mut linked_from_summary = BTreeSet::new();

    for file in markdown_files() {
        let text = read(&file);
        let dir = file.parent().unwrap();
        for (line, target) in links(&text) {
            let at = format!("{}:{line}: link `{target}`", relative(&file));
            if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                if target.is_empty() {
                    problems.push(format!("{at}: empty target"));
                }
                continue;
            }
            let (path_part, anchor) = match target.split_once('#') {
                Some((p, a)) => (p, Some(a)),
                None => (target.as_str(), None),
            };
            let path = if path_part.is_empty() {
                file.clone()
            } else {
                normalize(&dir.join(path_part))
            };
            if !path.exists() {
                problems.push(format!("{at}: no file {}", relative(&path)));
                continue;
            }
            if file.starts_with(&src) && !path.starts_with(&src) {
                problems.push(format!(
                    "{at}: leaves docs/src, so the built book has no such page (name the file in a code span)"
                ));
            }
            if file == src.join("SUMMARY.md") {
                linked_from_summary.insert(path.clone());
            }
            if let Some(anchor) = anchor {
                if path.extension().is_none_or(|e| e != "md") {
                    problems.push(format!("{at}: an anchor into a file that is not Markdown"));
                    continue;
                }
                let known = ids.entry(path.clone()).or_insert_with(|| heading_ids(&path));
                if !known.iter().any(|id| id == anchor) {
                    problems.push(format!(
                        "{at}: {} has no heading with the id `{anchor}` (it has: {})",
                        relative(&path),
                        known.join(", ")
                    ));
                }
            }
        }
        // The results files the figures come from.
        let words = text.split(|c: char| c == '`' || c.is_whitespace() || c == '(' || c == ')' || c == ',');
        for word in words.filter(|w| w.starts_with("bench/results/")) {
            let word = word.trim_end_matches(['.', ';', ':']);
            let committed = if word.ends_with('/') {
                root.join(word).is_dir()
            } else {
                root.join(word).is_file()
            };
            if !committed {
                problems.push(format!(
                    "{}: names {word}, which is not a committed file",
                    relative(&file)
                ));
            }
        }
    }

    for file in markdown_files().iter().filter(|f| f.starts_with(&src)) {
        if *file != src.join("SUMMARY.md") && !linked_from_summary.contains(file) {
            problems.push(format!("{}: a chapter SUMMARY.md does not list", relative(file)));
        }
    }
    assert!(problems.is_empty(), "broken links:\n{}", problems.join("\n"));
}

/// Lines of a file under `examples/` as mdBook includes them (anchor lines
/// dropped), trimmed.
fn example_lines(path: &Path) -> Vec<String> {
    read(path)
        .lines()
        .filter(|l| !l.contains("ANCHOR: ") && !l.contains("ANCHOR_END: "))
        .map(|l| l.trim().to_string())
        .collect()
}

fn example_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display())) {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path
                .extension()
                .is_some_and(|e| ["rs", "py", "js", "mjs", "toml", "sh"].contains(&e.to_str().unwrap_or_default()))
            {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&root().join("examples"), &mut files);
    files
}

/// The README's Rust, Python and JavaScript code blocks are contiguous
/// excerpts of files under `examples/` (lines compared trimmed), so the front
/// door's handler is code the test command builds; the book's are
/// `{{#include}}`s of them (or excerpts too), never retyped.
#[test]
fn code_in_the_readme_and_the_book_is_the_examples_code() {
    let root = root();
    let examples: Vec<(PathBuf, Vec<String>)> = example_files()
        .into_iter()
        .map(|p| (p.clone(), example_lines(&p)))
        .collect();
    let mut problems = Vec::new();
    let mut checked = 0;
    for file in markdown_files() {
        if file == root.join("ARCHITECTURE.md") {
            continue;
        }
        let in_book = file.starts_with(root.join("docs/src"));
        let (fences, _) = split_fences(&read(&file));
        for fence in fences {
            let lang = fence.info.split([',', ' ']).next().unwrap_or_default();
            if !["rust", "python", "py", "js", "javascript"].contains(&lang) {
                continue;
            }
            checked += 1;
            let mut lines: Vec<String> = fence.lines.iter().map(|l| l.trim().to_string()).collect();
            while lines.first().is_some_and(String::is_empty) {
                lines.remove(0);
            }
            while lines.last().is_some_and(String::is_empty) {
                lines.pop();
            }
            if in_book && !lines.is_empty() && lines.iter().all(|l| l.is_empty() || include_target(l).is_some()) {
                continue;
            }
            let found = !lines.is_empty()
                && examples
                    .iter()
                    .any(|(_, text)| text.windows(lines.len()).any(|w| w == lines.as_slice()));
            if !found {
                problems.push(format!(
                    "{}:{}: this ```{lang} block is not a contiguous excerpt of any file under examples/ \
                     (first line: {:?}){}",
                    relative(&file),
                    fence.line,
                    lines.first().map(String::as_str).unwrap_or_default(),
                    if in_book {
                        "; include it with {{#include ../../examples/...}}"
                    } else {
                        ""
                    }
                ));
            }
        }
    }
    assert!(checked > 0, "no code block checked: the README shows no handler");
    assert!(problems.is_empty(), "retyped code:\n{}", problems.join("\n"));
}
