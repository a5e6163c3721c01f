//! The `heimdall` binary: see `heimdall --help`.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match heimdall::cli::run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("heimdall: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
