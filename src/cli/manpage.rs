//! `porteiro manpage` (hidden): the manual page, porteiro(1), written from the same clap
//! definitions as `--help`, so that the two cannot disagree. The Debian package runs it on the
//! binary it ships (docs/packaging.md).

use std::io::Write;
use std::process::ExitCode;

use clap::CommandFactory;
use clap_mangen::Man;

use super::Cli;

/// Writes porteiro(1), in roff, to standard output.
pub(super) fn manpage() -> ExitCode {
    let mut page = Vec::new();
    match render(&mut page).and_then(|()| std::io::stdout().write_all(&page)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot write the manual page: {e}");
            ExitCode::FAILURE
        }
    }
}

/// One page for the whole command line: the global options, then a section per command with
/// only the options of its own (the global ones and `--help` are listed once, at the top).
fn render(out: &mut Vec<u8>) -> std::io::Result<()> {
    let mut command = Cli::command().disable_help_subcommand(true);
    command.build();
    let man = Man::new(command.clone()).manual("Porteiro manual");
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;
    for sub in command.get_subcommands().filter(|sub| !sub.is_hide_set()) {
        render_command(out, "porteiro", sub)?;
    }
    man.render_version_section(out)
}

/// The section of `command` (below `parent`), or of each of its own subcommands.
fn render_command(out: &mut Vec<u8>, parent: &str, command: &clap::Command) -> std::io::Result<()> {
    let name = format!("{parent} {}", command.get_name());
    let subcommands: Vec<_> = command
        .get_subcommands()
        .filter(|sub| !sub.is_hide_set() && sub.get_name() != "help")
        .collect();
    if !subcommands.is_empty() {
        for sub in subcommands {
            render_command(out, &name, sub)?;
        }
        return Ok(());
    }
    let own = command
        .clone()
        .mut_args(|arg| {
            let hide = arg.is_global_set() || arg.get_id() == "help";
            arg.hide(hide)
        })
        .bin_name(&name);
    writeln!(out, ".SH \"{}\"", name.to_uppercase())?;
    if let Some(about) = command.get_about() {
        writeln!(out, "{}", escape(&about.to_string()))?;
    }
    let mut options = Vec::new();
    Man::new(own).render_options_section(&mut options)?;
    // Each heading of the command's options becomes a subsection of its section.
    let options = String::from_utf8_lossy(&options).replace(".SH ", ".SS ");
    out.extend_from_slice(options.as_bytes());
    Ok(())
}

/// `text` safe as a line of roff text: no leading control character, backslashes doubled.
fn escape(text: &str) -> String {
    let text = text.replace('\\', "\\e");
    match text.starts_with(['.', '\'']) {
        true => format!("\\&{text}"),
        false => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manual_page_has_a_section_per_command_with_its_own_options() {
        let mut page = Vec::new();
        render(&mut page).unwrap();
        let page = String::from_utf8(page).unwrap();
        assert!(page.contains("\n.TH porteiro 1 "), "{page}");
        assert!(page.contains(".SH \"PORTEIRO SERVE\""), "{page}");
        assert!(page.contains(".SH \"PORTEIRO USER CREATE\""), "{page}");
        assert!(page.contains("access\\-token\\-lifetime"), "{page}");
        assert!(page.contains("PORTEIRO_ACCESS_TOKEN_LIFETIME"), "{page}");
        // The global options are listed once, at the top.
        assert_eq!(page.matches("PORTEIRO_DATABASE\\fR").count(), 1, "{page}");
    }
}
