use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = dbchunk::cli::Cli::parse();
    let code = dbchunk::run(cli);
    std::process::ExitCode::from(code as u8)
}
