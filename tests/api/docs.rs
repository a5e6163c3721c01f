//! The README and the book (`docs/`) stay usable: a README a newcomer reads in five
//! minutes, relative links (in the README and every chapter) that lead to a file and
//! heading that exist — on GitHub and in the rendered mdBook alike — and a
//! `SUMMARY.md` that lists every chapter.

use std::{
    collections::{BTreeSet, HashMap},
    path::{Path, PathBuf},
};

const README_MAX_LINES: usize = 250;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn book() -> PathBuf {
    root().join("docs/src")
}

/// Every Markdown file under `dir`, recursively.
fn markdown_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(markdown_files(&path));
        } else if path.extension().is_some_and(|e| e == "md") {
            found.push(path);
        }
    }
    found.sort();
    found
}

/// The lines of `text` outside fenced code blocks, with inline code spans blanked.
fn prose_lines(text: &str) -> Vec<String> {
    let mut in_fence = false;
    let mut lines = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        let mut prose = String::with_capacity(line.len());
        let mut in_code = false;
        for c in line.chars() {
            if c == '`' {
                in_code = !in_code;
                prose.push(' ');
            } else {
                prose.push(if in_code { ' ' } else { c });
            }
        }
        lines.push(prose);
    }
    lines
}

/// Targets of inline links and images, `[text](target "title")`, outside code.
fn link_targets(text: &str) -> Vec<String> {
    let mut targets = Vec::new();
    for line in prose_lines(text) {
        let mut rest = line.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else { break };
            let target = after[..end].split_whitespace().next().unwrap_or_default();
            targets.push(target.trim_matches(['<', '>']).to_owned());
            rest = &after[end..];
        }
    }
    targets
}

/// Heading ids as GitHub and mdBook make them: lowercase, letters, digits, `-` and
/// `_` kept, spaces turned into `-`, everything else dropped; repeats get `-1`, `-2`.
fn heading_ids(text: &str) -> BTreeSet<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut ids = BTreeSet::new();
    let mut in_fence = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence || !line.starts_with('#') {
            continue;
        }
        let title = line.trim_start_matches('#').trim();
        let id: String = title
            .to_lowercase()
            .chars()
            .filter_map(|c| match c {
                ' ' => Some('-'),
                c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                _ => None,
            })
            .collect();
        let count = seen.entry(id.clone()).or_insert(0);
        ids.insert(if *count == 0 {
            id.clone()
        } else {
            format!("{id}-{count}")
        });
        *count += 1;
    }
    ids
}

/// The broken relative links of one Markdown file, as `file: target (why)`.
fn broken_links(file: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(file).unwrap();
    let shown = file
        .strip_prefix(root())
        .unwrap_or(file)
        .display()
        .to_string();
    let mut broken = Vec::new();
    for target in link_targets(&text) {
        if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
            continue;
        }
        let (path, anchor) = match target.split_once('#') {
            Some((path, anchor)) => (path, Some(anchor)),
            None => (target.as_str(), None),
        };
        let resolved = if path.is_empty() {
            file.to_path_buf()
        } else if path.starts_with('/') {
            broken.push(format!(
                "{shown}: {target} (absolute paths do not work on GitHub and in the book)"
            ));
            continue;
        } else {
            file.parent().unwrap().join(path)
        };
        if !resolved.exists() {
            broken.push(format!("{shown}: {target} (no such file)"));
            continue;
        }
        if let Some(anchor) = anchor
            && resolved.extension().is_some_and(|e| e == "md")
        {
            let ids = heading_ids(&std::fs::read_to_string(&resolved).unwrap());
            if !ids.contains(anchor) {
                broken.push(format!("{shown}: {target} (no such heading)"));
            }
        }
    }
    broken
}

#[test]
fn the_readme_is_short() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let lines = readme.lines().count();
    assert!(
        lines <= README_MAX_LINES,
        "README.md has {lines} lines, more than {README_MAX_LINES}: move detail into a chapter of docs/src/"
    );
}

#[test]
fn relative_links_in_the_readme_and_the_book_lead_somewhere() {
    let mut files = vec![root().join("README.md")];
    files.extend(markdown_files(&book()));
    assert!(files.len() > 10, "the book's chapters were found");
    let broken: Vec<String> = files.iter().flat_map(|f| broken_links(f)).collect();
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn the_summary_lists_every_chapter() {
    let book = book();
    let summary = std::fs::read_to_string(book.join("SUMMARY.md")).unwrap();
    let listed: BTreeSet<PathBuf> = link_targets(&summary)
        .iter()
        .map(|t| book.join(t.split('#').next().unwrap_or_default()))
        .collect();
    let missing: Vec<String> = markdown_files(&book)
        .into_iter()
        .filter(|f| !f.ends_with("SUMMARY.md") && !listed.contains(f))
        .map(|f| f.strip_prefix(&book).unwrap().display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "docs/src/SUMMARY.md does not list: {}",
        missing.join(", ")
    );
}

/// The checks above check something: they see links, headings and omissions.
#[test]
fn the_link_checks_find_what_is_broken() {
    let text = "# Top\n## Sign-in (`cargo bench`)\n## Top\n[a](x.md) `[b](y.md)` ![c](img.png \"t\")\n```\n[d](z.md)\n```\n";
    assert_eq!(link_targets(text), ["x.md", "img.png"]);
    let ids = heading_ids(text);
    for id in ["top", "top-1", "sign-in-cargo-bench"] {
        assert!(ids.contains(id), "{id} in {ids:?}");
    }

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("there.md"), "# Here it is\n").unwrap();
    let page = dir.path().join("page.md");
    std::fs::write(
        &page,
        "[ok](there.md#here-it-is) [self](#page) [web](https://example.com)\n\
         [gone](missing.md) [no heading](there.md#elsewhere) [abs](/there.md)\n# Page\n",
    )
    .unwrap();
    let broken = broken_links(&page);
    assert_eq!(broken.len(), 3, "{broken:?}");
    assert!(
        broken[0].contains("missing.md (no such file)"),
        "{broken:?}"
    );
    assert!(broken[1].contains("there.md#elsewhere (no such heading)"));
    assert!(broken[2].contains("/there.md (absolute paths"));
}
