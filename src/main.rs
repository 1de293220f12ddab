//! The `natter` binary: read the configuration, start tracing, run the server
//! until SIGINT or SIGTERM. Everything else lives in the library.

use clap::Parser;
use natter::{config::Config, startup::App, telemetry};

fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    let runtime = match config.worker_threads {
        Some(1) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?,
        Some(threads) => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()?,
        None => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?,
    };
    runtime.block_on(async {
        telemetry::init(config.log_format);
        let app = App::build(config).await?;
        tracing::info!("natter listening on http://{}", app.addr());
        app.run(telemetry::shutdown_signal()).await
    })
}
