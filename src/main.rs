use clap::Parser;
use heapdiff::cli::{self, Cli};

fn main() {
    heapdiff::mem::return_large_blocks();
    let args = Cli::parse();
    let code = match args.command {
        Some(command) => cli::run(command),
        None => {
            let options = heapdiff::app::StartupOptions::from_files(args.files, args.final_);
            match heapdiff::app::run(options) {
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
