//! The `reen-host` command line (`cli.rs`): `reen-host up [--build]` serves a Spin app like
//! `spin up`.

fn main() -> std::process::ExitCode {
    reen_host::cli::main()
}
