//! The `adnet` binary: see the `adnet_cli` crate.

fn main() {
    let status = adnet_cli::run(
        std::env::args_os(),
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    );
    std::process::exit(status);
}
