//! A gate in front of the server, to cut one person's network.

use std::net::SocketAddr;

use tokio::task::JoinHandle;

use super::free_port;

/// A loopback TCP relay in front of the server: closing it cuts every
/// connection through it and refuses new ones, as a dropped network would,
/// while the server itself stays up for everyone else.
pub struct Gate {
    pub port: u16,
    upstream: SocketAddr,
    task: Option<JoinHandle<()>>,
}

impl Gate {
    pub async fn open_to(upstream: SocketAddr) -> Self {
        let mut gate = Self {
            port: free_port(),
            upstream,
            task: None,
        };
        gate.open().await;
        gate
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub async fn open(&mut self) {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("gate port");
        let upstream = self.upstream;
        self.task = Some(tokio::spawn(async move {
            // Dropping the set (when the task is aborted) aborts every relay.
            let mut relays = tokio::task::JoinSet::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                relays.spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        }));
    }

    pub async fn close(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }
}
