//! Runs every command of the README's `sh` code blocks, in order, in a scratch directory, so
//! that the examples cannot drift from the tool.
//!
//! The commands run as written except for their sizes: the rules in [`shrink`] lower system
//! counts, saved states, epochs and widths so that the whole README runs in seconds. Every
//! flag, path and subcommand stays as the README shows it.

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use common::root;
use tempfile::TempDir;

/// One command line of the README, with its line number for messages.
#[derive(Debug, Clone)]
struct ReadmeCommand {
    line: usize,
    words: Vec<String>,
}

/// Collects the commands of every ```sh block, joining lines continued with a backslash.
fn readme_commands() -> Vec<ReadmeCommand> {
    let text = std::fs::read_to_string(root().join("README.md")).unwrap();
    let mut commands = Vec::new();
    let mut in_shell = false;
    let mut pending: Option<ReadmeCommand> = None;
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with("```") {
            in_shell = trimmed == "```sh";
            continue;
        }
        if !in_shell || trimmed.is_empty() {
            continue;
        }
        let (body, continued) = match trimmed.strip_suffix('\\') {
            Some(body) => (body, true),
            None => (trimmed, false),
        };
        let command = pending.get_or_insert_with(|| ReadmeCommand { line: index + 1, words: Vec::new() });
        command.words.extend(body.split_whitespace().map(String::from));
        if !continued {
            commands.extend(pending.take());
        }
    }
    commands
}

/// Sets `flag` to `value` when the value is larger (or, for `always`, unconditionally), and
/// appends it when absent.
fn cap(words: &mut Vec<String>, flag: &str, value: usize, always: bool) {
    match words.iter().position(|w| w == flag) {
        Some(i) => {
            let current: usize = words[i + 1].parse().unwrap();
            if always || current > value {
                words[i + 1] = value.to_string();
            }
        }
        None => words.extend([flag.to_string(), value.to_string()]),
    }
}

/// Lowers the sizes of a hamsim command so that it runs in seconds.
fn shrink(words: &mut Vec<String>) {
    match words[0].as_str() {
        "generate" => {
            cap(words, "--count", 40, false);
            cap(words, "--states", 30, false);
        }
        "train" => {
            cap(words, "--n-train", 24, false);
            cap(words, "--n-val", 8, false);
            cap(words, "--batch-size", 8, false);
            cap(words, "--epochs", 1, true);
            cap(words, "--width", 8, true);
            cap(words, "--layers", 1, true);
        }
        "demo" if !words.iter().any(|w| w == "--quick") => words.push("--quick".to_string()),
        _ => {}
    }
}

/// Turns a README command into the hamsim arguments to run, or `None` for `mkdir` and for the
/// cargo commands that this test itself depends on.
fn hamsim_words(command: &ReadmeCommand) -> Option<Vec<String>> {
    let words = &command.words;
    let rest = match words.first().map(String::as_str) {
        Some("./target/release/hamsim") => &words[1..],
        Some("cargo") if words[1..3] == ["run", "--release"] && words[3] == "--" => &words[4..],
        Some("cargo") if matches!(words[1].as_str(), "build" | "test") => return None,
        Some("mkdir") => return None,
        _ => panic!("README line {}: unknown command {:?}; teach this test to run it", command.line, words),
    };
    Some(rest.to_vec())
}

/// Rewrites paths into the repository (system files and the shared data folder) to absolute
/// ones, because the commands run in a scratch directory.
fn resolve_paths(words: &mut [String]) {
    for word in words.iter_mut() {
        if word.starts_with("systems/") || word.starts_with("../shared/") {
            *word = root().join(&*word).display().to_string();
        }
    }
}

fn run(command: &ReadmeCommand, dir: &Path) {
    if command.words[0] == "mkdir" {
        for path in command.words[1..].iter().filter(|w| !w.starts_with('-')) {
            std::fs::create_dir_all(dir.join(path)).unwrap();
        }
        return;
    }
    let Some(mut words) = hamsim_words(command) else { return };
    if words.is_empty() {
        return;
    }
    if words[0] != "--help" {
        shrink(&mut words);
    }
    resolve_paths(&mut words);
    let output = Command::cargo_bin("hamsim").unwrap().current_dir(dir).args(&words).output().unwrap();
    assert!(
        output.status.success(),
        "README line {} failed: hamsim {}\n{}",
        command.line,
        words.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn readme_commands_run() {
    let commands = readme_commands();
    let subcommands: Vec<&str> = commands
        .iter()
        .filter_map(|c| hamsim_words(c).and_then(|w| w.first().cloned()))
        .map(|w| match w.as_str() {
            "generate" => "generate",
            "analyze" => "analyze",
            "train" => "train",
            "rollout" => "rollout",
            "demo" => "demo",
            _ => "other",
        })
        .collect();
    for name in ["generate", "analyze", "train", "rollout", "demo"] {
        assert!(subcommands.contains(&name), "the README shows no example of hamsim {name}");
    }

    let dir = TempDir::new().unwrap();
    for command in &commands {
        run(command, dir.path());
    }

    // Files that later sections of the README point users to.
    let expected: [PathBuf; 5] = [
        dir.path().join("results/demo-quick/energy.png"),
        dir.path().join("plots/energy.png"),
        dir.path().join("plots/leapfrog/metrics.json"),
        dir.path().join("results/springs2d/trajectories.png"),
        dir.path().join("results/springs2d/f64/momentum.png"),
    ];
    for path in expected {
        assert!(path.is_file(), "the README's commands did not write {}", path.display());
    }
}

#[test]
fn readme_test_command_matches_ci() {
    let ci = std::fs::read_to_string(root().join(".ci/run")).unwrap();
    let commands = readme_commands();
    let test = commands
        .iter()
        .find(|c| c.words.first().map(String::as_str) == Some("cargo") && c.words[1] == "test")
        .expect("the README shows the test command");
    assert_eq!(test.words, ["cargo", "test", "--release"], "README line {}", test.line);
    assert!(ci.contains("README"), ".ci/run reads its test command from the README");
}
