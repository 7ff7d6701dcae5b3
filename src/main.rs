use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = match dbchunk::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            dbchunk::log::set_format_from_args(std::env::args_os());
            return dbchunk::error::usage_from_clap(err);
        }
    };
    let code = dbchunk::run(cli);
    std::process::ExitCode::from(code as u8)
}
