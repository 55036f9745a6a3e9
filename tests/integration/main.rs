//! nsctl's privileged test suite. Every case runs the real binary inside a private sandbox
//! (tests/sandbox/run.sh); the suite snapshots the host first and checks, last, that the
//! host's /run/netns, links and mount table are as they were.
//!
//! Not root: every case is skipped with a message, unless CI=true, where that is a failure.

mod adopted;
mod checkload;
mod checks;
mod completion;
mod converge;
mod destroylab;
mod doctranscripts;
mod exec;
mod expressions;
mod front;
mod golden;
mod hostsfiles;
mod lab;
mod labnames;
mod lifecycle;
mod machines;
mod macs;
mod model;
mod nodes;
mod others;
mod package;
mod probes;
mod routes;
mod rundir;
mod schema;
mod shaping;
mod show;
mod support;
mod wiring;

use std::panic::{catch_unwind, AssertUnwindSafe};

type Case = (&'static str, fn() -> Result<(), String>);

const CASES: &[Case] = &[
    ("golden_differential_against_ip", golden::differential),
    (
        "add_makes_a_real_namespace",
        lifecycle::add_makes_a_real_namespace,
    ),
    ("parallel_add_delete_8x50", lifecycle::parallel_add_delete),
    (
        "non_root_gets_ip_errors_and_nothing_is_created",
        lifecycle::non_root,
    ),
    (
        "names_symlinks_and_files_stay_inside_run_netns",
        lifecycle::path_safety,
    ),
    ("n_netns_add_leaves_no_ghost", lifecycle::n_add_no_ghost),
    (
        "fifo_in_run_netns_hangs_nothing",
        lifecycle::fifo_in_run_netns,
    ),
    (
        "symlinked_run_netns_is_not_followed",
        lifecycle::symlinked_run_dir,
    ),
    ("interop_with_ip_netns", exec::interop_with_ip),
    ("exec_is_the_command_itself", exec::exec_is_the_command),
    (
        "exec_signal_reaches_the_command",
        exec::signal_reaches_command,
    ),
    ("exec_here_document_reaches_stdin", exec::heredoc_stdin),
    ("exec_etc_netns_inside_only", exec::etc_netns_inside_only),
    ("batch_one_process_many_lines", exec::batch_many_lines),
    ("front_help_and_version", front::help_and_version),
    ("front_man_page_renders", front::man_page_renders),
    (
        "front_help_points_at_the_lab_verbs",
        front::help_points_at_the_lab_verbs,
    ),
    (
        "front_lab_options_are_suggested",
        front::lab_options_are_suggested,
    ),
    ("front_completions_in_bash", front::completions_in_bash),
    (
        "schema_examples_validate_and_typos_do_not",
        schema::examples_validate_and_typos_do_not,
    ),
    ("package_installed_works", package::installed_package_works),
    (
        "completion_bash_names_are_literal",
        completion::bash_names_are_literal,
    ),
    (
        "completion_zsh_and_fish_names_are_literal",
        completion::zsh_and_fish_names_are_literal,
    ),
    ("completion_lab_values", completion::lab_values_complete),
    ("wiring_mario_and_luigi_ping", wiring::mario_and_luigi),
    ("wiring_abc_bridge_ping", wiring::abc_bridge),
    ("wiring_move_into_netns_and_back", wiring::move_and_back),
    (
        "wiring_failures_change_nothing",
        wiring::failures_change_nothing,
    ),
    ("wiring_interop_and_batch", wiring::interop_and_batch),
    ("wiring_ip_readers_match_ip", wiring::ip_readers),
    ("wiring_non_utf8_names_are_bytes", wiring::non_utf8_names),
    (
        "wiring_route_families_and_batch_objects_match_ip",
        wiring::route_families_and_batch_objects,
    ),
    ("wiring_show_output_matches_ip", show::show_matches_ip),
    ("wiring_routes_match_ip", routes::routes_match_ip),
    (
        "wiring_macvlan_and_vxlan_match_ip",
        wiring::macvlan_and_vxlan_match_ip,
    ),
    (
        "lab_validation_errors_change_nothing",
        lab::validation_errors,
    ),
    (
        "lab_hostile_expressions_exit_2",
        expressions::hostile_expressions,
    ),
    ("lab_abc_ping_nat_converge_destroy", lab::abc_lab),
    (
        "lab_foreign_bridge_refused_then_adopted",
        lab::foreign_bridge,
    ),
    ("lab_missing_nft_and_dry_run", lab::missing_nft_and_dry_run),
    ("lab_kill_9_during_apply_converges", lab::kill_during_apply),
    ("lab_star100_apply_destroy", lab::star100),
    ("lab_switch_namespaces", lab::switch_namespaces),
    ("lab_across_two_machines", machines::two_machines),
    ("lab_across_hosts_bad_files", machines::bad_files),
    ("lab_across_hosts_over_ssh", machines::all_hosts),
    ("lab_across_hosts_ipv6_underlay", machines::ipv6_underlay),
    ("lab_status_nodes_table", nodes::nodes_table),
    ("lab_status_nodes_across_hosts", nodes::nodes_across_hosts),
    ("lab_status_nodes_all_hosts", nodes::nodes_all_hosts),
    ("lab_generated_entries", lab::generated_labs),
    ("lab_graph_pictures", lab::graph_pictures),
    ("lab_reachability_checks", checks::reachability_checks),
    (
        "lab_checks_hold_under_loss",
        checkload::checks_hold_under_loss,
    ),
    (
        "lab_test_progress_on_a_terminal",
        checkload::progress_on_a_terminal,
    ),
    ("lab_tcp_checks_at_scale", probes::tcp_checks_at_scale),
    (
        "lab_tcp_listeners_per_namespace",
        probes::tcp_listeners_per_namespace,
    ),
    (
        "lab_hostile_ssh_and_host_names",
        labnames::hostile_ssh_and_host_names,
    ),
    (
        "lab_mermaid_names_are_text",
        labnames::mermaid_names_are_text,
    ),
    ("lab_hosts_files_resolve_names", checks::hosts_files),
    (
        "lab_first_address_is_the_files",
        model::first_address_is_the_files,
    ),
    (
        "lab_check_without_a_common_family_refused",
        model::check_without_a_common_family_refused,
    ),
    ("lab_kernel_routes_refused", model::kernel_routes_refused),
    (
        "lab_adopt_never_replaces_a_kernel_route",
        model::adopt_never_replaces_a_kernel_route,
    ),
    ("lab_shaped_links", shaping::shaped_links),
    ("lab_sysctls_applied_reported_restored", lab::sysctls),
    ("lab_host_routes_removed_by_destroy", lab::host_routes),
    (
        "lab_replaced_namespace_is_not_nsctls",
        lab::replaced_namespace,
    ),
    (
        "lab_adopt_a_replaced_namespace",
        lab::adopt_replaced_namespace,
    ),
    (
        "lab_another_labs_objects_are_named",
        others::another_labs_objects,
    ),
    (
        "lab_remade_namespace_is_rewired",
        lab::remade_namespace_rewired,
    ),
    (
        "lab_adopted_namespace_is_put_back",
        adopted::adopted_namespace_is_put_back,
    ),
    (
        "lab_remade_links_keep_their_macs",
        macs::remade_links_keep_their_macs,
    ),
    ("lab_router_tiers", lab::router_tiers),
    ("lab_edits_converge", converge::edits_converge),
    (
        "lab_damage_by_hand_is_repaired",
        converge::damage_is_repaired,
    ),
    (
        "lab_shared_forwarding_and_routed_nat",
        converge::shared_forwarding_and_routed_nat,
    ),
    (
        "lab_destroy_reports_a_held_namespace",
        converge::destroy_reports_a_held_namespace,
    ),
    (
        "lab_remade_and_adopted_at_once",
        converge::remade_and_adopted_at_once,
    ),
    ("lab_one_ownership_rule", converge::one_ownership_rule),
    (
        "lab_bad_input_changes_nothing",
        converge::bad_input_changes_nothing,
    ),
    (
        "lab_journal_cannot_be_tampered_with",
        converge::journal_cannot_be_tampered_with,
    ),
    ("lab_labs_without_the_file", converge::labs_without_the_file),
    (
        "lab_destroy_says_which_lab",
        destroylab::destroy_says_which_lab,
    ),
    (
        "docs_transcript_normalisation",
        doctranscripts::transcript_normalisation,
    ),
    (
        "docs_transcripts_are_true",
        doctranscripts::docs_transcripts_are_true,
    ),
    ("lab_concurrent_runs", converge::concurrent_runs),
    ("lab_kill_9_during_destroy", converge::kill_during_destroy),
    (
        "lab_hosts_files_odd_files_refused",
        hostsfiles::odd_files_refused,
    ),
    (
        "lab_hosts_files_fifo_after_apply",
        hostsfiles::fifo_after_apply,
    ),
    (
        "lab_hosts_files_changed_kept_by_destroy",
        hostsfiles::changed_file_kept_by_destroy,
    ),
    (
        "lab_hosts_files_changed_kept_by_apply",
        hostsfiles::changed_file_kept_by_apply,
    ),
    (
        "lab_hosts_files_modes_and_lost_journal",
        hostsfiles::modes_and_lost_journal,
    ),
    (
        "rundir_private_whatever_the_umask",
        rundir::private_whatever_the_umask,
    ),
    (
        "rundir_fifo_journal_and_lock_refused",
        rundir::fifo_journal_and_lock_refused,
    ),
    ("rundir_lab_file_from_a_pipe", rundir::lab_file_from_a_pipe),
    (
        "rundir_oversized_journal_refused",
        rundir::oversized_journal_refused,
    ),
    (
        "rundir_observing_creates_nothing",
        rundir::observing_creates_nothing,
    ),
    (
        "rundir_non_root_is_told_to_be_root",
        rundir::non_root_is_told_to_be_root,
    ),
];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo test --test integration -- WORD...` runs the cases whose names contain a WORD
    // (cargo's own flags, which start with '-', are ignored); the host check always runs.
    let words: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let chosen: Vec<&Case> = CASES
        .iter()
        .filter(|(name, _)| words.is_empty() || words.iter().any(|w| name.contains(w.as_str())))
        .collect();
    if args.iter().any(|a| a == "--list") {
        for (name, _) in &chosen {
            println!("{name}: test");
        }
        println!("\n{} tests, 0 benchmarks", chosen.len());
        return;
    }
    if chosen.is_empty() {
        let w: Vec<&str> = words.iter().map(|w| w.as_str()).collect();
        println!(
            "integration: no case name contains {}; `cargo test --test integration -- --list` lists them",
            w.join(" or ")
        );
        println!("0 passed, 1 failed");
        std::process::exit(1);
    }
    let ci = std::env::var("CI").map(|v| v == "true").unwrap_or(false);
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let tools = [
        "unshare", "ip", "setpriv", "stdbuf", "timeout", "ping", "nft", "python3",
    ]
    .iter()
    .all(|t| {
        std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {t}"))
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    });
    if !root || !tools {
        let why = if !root {
            "not root"
        } else {
            "unshare/ip/setpriv/stdbuf/timeout/ping/nft/python3 missing"
        };
        if ci {
            println!("integration: cannot run ({why}) and CI=true: failing instead of skipping");
            println!("0 passed, 1 failed");
            std::process::exit(1);
        }
        println!(
            "integration: SKIPPED {} privileged cases ({why}); run as root to test for real",
            chosen.len()
        );
        println!("0 passed, 0 failed, {} skipped", chosen.len());
        return;
    }
    let before = support::host_state();
    let (mut passed, mut failed) = (0, 0);
    let mut run = |name: &str, f: &dyn Fn() -> Result<(), String>| {
        let t = std::time::Instant::now();
        let res = catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| Err("panicked".into()));
        match res {
            Ok(()) => {
                passed += 1;
                println!("test {name} ... ok ({:.1}s)", t.elapsed().as_secs_f64());
            }
            Err(e) => {
                failed += 1;
                println!("test {name} ... FAILED\n{e}");
            }
        }
    };
    for (name, f) in chosen {
        run(name, f);
    }
    run("host_unchanged_after_suite", &|| {
        let after = support::host_state();
        if after == before {
            Ok(())
        } else {
            Err(format!(
                "host state changed\n--- before\n{before}--- after\n{after}"
            ))
        }
    });
    println!("{passed} passed, {failed} failed");
    if failed > 0 {
        std::process::exit(1);
    }
}
