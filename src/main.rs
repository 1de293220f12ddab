//! The `natter` binary: read the configuration, start tracing, run the server
//! until SIGINT or SIGTERM. Everything else lives in the library.

use clap::Parser;
use natter::{config::Config, startup::App, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init();
    let config = Config::parse();
    let app = App::build(config).await?;
    tracing::info!("natter listening on http://{}", app.addr());
    app.run(telemetry::shutdown_signal()).await
}
