use clap::Parser;
use heapdiff::app::{self, StartupOptions};
use heapdiff::cli::{self, Cli, Done};

fn main() {
    heapdiff::mem::return_large_blocks();
    let args = Cli::parse();
    let done = match args.command {
        Some(command) => cli::run(command),
        None => Done::OpenWindow {
            files: args.files,
            final_: args.final_,
        },
    };
    let code = match done {
        Done::Exit(code) => code,
        Done::OpenWindow { files, final_ } => {
            match app::run(StartupOptions::from_files(files, final_)) {
                Ok(()) => cli::EXIT_OK,
                Err(e) => {
                    eprintln!("heapdiff: cannot open the window: {e}");
                    cli::EXIT_BAD_INPUT
                }
            }
        }
    };
    std::process::exit(code);
}
