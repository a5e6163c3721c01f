//! The architecture, checked: layers point one way (`http`, `graphql` → `services`
//! → `access`, `db`, `crypto`, `entity`), only the guard grants capabilities, and
//! no handler or resolver names a permission (services check them).

use std::path::{Path, PathBuf};

use heimdall::access::Permission;

fn sources(dir: &str) -> Vec<(PathBuf, String)> {
    fn walk(path: &Path, out: &mut Vec<(PathBuf, String)>) {
        if path.is_dir() {
            let mut entries: Vec<_> = std::fs::read_dir(path)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            entries.sort();
            for entry in entries {
                walk(&entry, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push((path.to_owned(), std::fs::read_to_string(path).unwrap()));
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(dir);
    let mut out = Vec::new();
    walk(&root, &mut out);
    assert!(!out.is_empty(), "no sources under {}", root.display());
    out
}

/// Code without `//` comments (doc comments included), so that prose may name
/// modules and permissions.
fn code(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn string_literals(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    let mut current: Option<String> = None;
    while let Some(c) = chars.next() {
        match (&mut current, c) {
            (None, '"') => current = Some(String::new()),
            (Some(_), '\\') => {
                chars.next();
            }
            (Some(s), '"') => {
                out.push(std::mem::take(s));
                current = None;
            }
            (Some(s), c) => s.push(c),
            (None, _) => {}
        }
    }
    out
}

/// The crate-root modules a file refers to: `crate::x::…` paths anywhere, and the
/// first segments inside `use crate::{…}` groups.
fn crate_modules(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let mut item = String::new();
            let mut at_item_start = true;
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    ',' if depth == 1 => {
                        at_item_start = true;
                        continue;
                    }
                    _ => {}
                }
                if depth == 1 && at_item_start {
                    if c.is_alphanumeric() || c == '_' {
                        item.push(c);
                    } else if !item.is_empty() {
                        found.push(std::mem::take(&mut item));
                        at_item_start = false;
                    }
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            found.push(name);
        }
    }
    found
}

fn offenders(dir: &str, forbidden: &[&str]) -> Vec<String> {
    sources(dir)
        .into_iter()
        .flat_map(|(path, text)| {
            let used = crate_modules(&code(&text));
            forbidden
                .iter()
                .filter(|module| used.iter().any(|u| u == **module))
                .map(|module| format!("{} uses crate::{module}", path.display()))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn layers_point_one_way() {
    let mut found = Vec::new();
    for dir in ["services", "access", "crypto"] {
        found.extend(offenders(dir, &["http", "graphql"]));
    }
    for dir in ["access", "crypto"] {
        found.extend(offenders(dir, &["services", "state"]));
    }
    found.extend(offenders("graphql", &["http"]));
    assert!(
        found.is_empty(),
        "imports that run upward:\n{}",
        found.join("\n")
    );
}

#[test]
fn handlers_and_resolvers_name_no_permission() {
    let mut names: Vec<&str> = Permission::BUILTIN.iter().map(|p| p.as_str()).collect();
    names.extend(["oauth_clients:*", "api_keys:*"]);
    let mut found = Vec::new();
    for dir in ["http", "graphql"] {
        for (path, text) in sources(dir) {
            for literal in string_literals(&code(&text)) {
                let colon = literal.replacen('.', ":", 1);
                if names.contains(&literal.as_str()) || names.contains(&colon.as_str()) {
                    found.push(format!("{}: \"{literal}\"", path.display()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "permission strings outside services:\n{}",
        found.join("\n")
    );
}

#[test]
fn only_the_guard_grants_capabilities() {
    let mut found = Vec::new();
    for dir in ["http", "graphql", "services", "access"] {
        for (path, text) in sources(dir) {
            let allowed =
                path.ends_with("services/guard.rs") || path.ends_with("access/capability.rs");
            let code = code(&text);
            for capability in [
                "RootAccess",
                "AppAdmin",
                "AppAccess",
                "TenantAccess",
                "Me",
                "MfaSubject",
            ] {
                if !allowed && code.contains(&format!("{capability}::grant(")) {
                    found.push(format!("{} grants {capability}", path.display()));
                }
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// The checks above can fail: they find what they look for.
#[test]
fn the_structure_checks_see_what_they_look_for() {
    let sample = "use crate::http::x; // crate::graphql in prose\nlet p = \"user.read\";\n\
                  use crate::{\n    access::Actor,\n    db::{self, Page},\n    services::users,\n};";
    let code = code(sample);
    assert_eq!(crate_modules(&code), ["http", "access", "db", "services"]);
    assert_eq!(string_literals(&code), vec!["user.read".to_owned()]);
}

/// Comments cite the book (`docs/src/…`) or RFCs, never documents a reader of the
/// repository does not have; every chapter they cite exists.
#[test]
fn comments_cite_only_what_the_repository_has() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut found = Vec::new();
    for dir in ["access", "crypto", "graphql", "http", "services"] {
        for (path, text) in sources(dir) {
            for (n, line) in text.lines().enumerate() {
                let outside = [
                    "SPEC §", "SPEC.md", "seed 00", "Seed 00", "issue #", "(issue ",
                ];
                if outside.iter().any(|o| line.contains(o)) {
                    found.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                }
                let mut rest = line;
                while let Some(at) = rest.find("docs/src/") {
                    let cited: String = rest[at..]
                        .chars()
                        .take_while(|c| !c.is_whitespace() && !matches!(c, ')' | ',' | '`' | ';'))
                        .collect();
                    let cited = cited
                        .trim_end_matches('.')
                        .split('#')
                        .next()
                        .unwrap_or_default();
                    if !root.join(cited).is_file() {
                        found.push(format!(
                            "{}:{}: cites missing {cited}",
                            path.display(),
                            n + 1
                        ));
                    }
                    rest = &rest[at + "docs/src/".len()..];
                }
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}
