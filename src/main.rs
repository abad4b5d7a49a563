use clap::Parser;
use heapdiff::cli::{self, Cli};

fn main() {
    let args = Cli::parse();
    let code = match args.command {
        Some(command) => cli::run(command),
        None => {
            // The window arrives with the app issue; until then the bare command explains itself.
            use clap::CommandFactory;
            let _ = Cli::command().print_help();
            cli::EXIT_BAD_INPUT
        }
    };
    std::process::exit(code);
}
