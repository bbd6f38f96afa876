//! The server loop: connections accepted up to a cap, in all and from one address,
//! each served by hyper's HTTP/1.1 with a deadline on reading a request's head.
//!
//! axum's own `serve` gives hyper no timer, so a client that sends its head a byte
//! at a time, or opens a connection and says nothing, keeps it for as long as it
//! likes; and it accepts until the process runs out of file descriptors, after
//! which no one is served. Here:
//! - hyper's `header_read_timeout` closes a connection whose request head has not
//!   arrived in time. hyper starts that clock whenever the connection waits for a
//!   head, so it is also the idle timeout of a kept-alive connection;
//! - the body's deadline is the router's (`tower_http::timeout::RequestBodyTimeoutLayer`);
//! - at most [`ConnectionLimits::max_connections`] connections are open at once
//!   (set it below `ulimit -n`): past that, new ones wait in the kernel's backlog
//!   until one closes, rather than failing to open a file;
//! - at most [`ConnectionLimits::max_per_address`] from one client address: a
//!   connection past that is closed at once, so one address flooding the server
//!   with silent connections does not keep anyone else out.
//!
//! Each request carries its peer's address (`ConnectInfo<SocketAddr>`), which the
//! rate limits go by. Shutdown stops accepting, lets requests in flight finish for
//! [`SHUTDOWN_GRACE`], and then ends.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt;

/// How connections are bounded.
#[derive(Clone, Debug)]
pub struct ConnectionLimits {
    /// Most connections open at once.
    pub max_connections: usize,
    /// Most connections open at once from one client address.
    pub max_per_address: usize,
    /// Longest wait for a request's head (and so longest idle keep-alive).
    pub header_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            max_connections: 4_096,
            max_per_address: 256,
            header_timeout: Duration::from_secs(10),
        }
    }
}

/// How long requests in flight may go on after shutdown is asked for.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Serves `app` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send,
) {
    let open = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let by_address = Arc::new(Mutex::new(HashMap::<IpAddr, usize>::new()));
    // Connections hold a receiver; shutdown tells them, then waits for them to drop it.
    let (stop, stopped) = watch::channel(false);
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = accept(&listener, &open) => accepted,
        };
        let Some((stream, peer, permit)) = accepted else {
            continue;
        };
        let Some(slot) = Slot::take(&by_address, peer.ip(), limits.max_per_address) else {
            tracing::debug!(%peer, "too many connections from one address");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            let app = app.clone();
            async move {
                let response = app.oneshot(request.map(Body::new)).await;
                Ok::<_, Infallible>(match response {
                    Ok(response) => response,
                    Err(never) => match never {},
                })
            }
        });
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            let _held = (permit, slot);
            tokio::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(error) = result {
                        tracing::debug!(%error, %peer, "connection ended");
                    }
                    return;
                }
                _ = stopped.wait_for(|stop| *stop) => {}
            }
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
            drop(stopped);
        });
    }
    drop(listener);
    // Only the connections' receivers are left, so `closed` waits for them alone.
    drop(stopped);
    let _ = stop.send(true);
    if tokio::time::timeout(SHUTDOWN_GRACE, stop.closed())
        .await
        .is_err()
    {
        tracing::warn!("requests still running after the shutdown grace period are cut off");
    }
}

/// The next connection, once there is room for it (`None`: accepting failed).
async fn accept(
    listener: &TcpListener,
    open: &Arc<Semaphore>,
) -> Option<(
    tokio::net::TcpStream,
    SocketAddr,
    tokio::sync::OwnedSemaphorePermit,
)> {
    let permit = open.clone().acquire_owned().await.ok()?;
    match listener.accept().await {
        Ok((stream, peer)) => Some((stream, peer, permit)),
        Err(error) => {
            // Out of file descriptors or memory: wait a moment rather than spin.
            tracing::warn!(%error, "could not accept a connection");
            tokio::time::sleep(Duration::from_millis(100)).await;
            None
        }
    }
}

/// A place among the connections of one client address, given back on drop.
struct Slot {
    by_address: Arc<Mutex<HashMap<IpAddr, usize>>>,
    address: IpAddr,
}

impl Slot {
    fn take(
        by_address: &Arc<Mutex<HashMap<IpAddr, usize>>>,
        address: IpAddr,
        most: usize,
    ) -> Option<Self> {
        let mut counts = by_address.lock().unwrap_or_else(PoisonError::into_inner);
        let count = counts.entry(address).or_insert(0);
        if *count >= most {
            return None;
        }
        *count += 1;
        Some(Self {
            by_address: by_address.clone(),
            address,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self
            .by_address
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = counts.get_mut(&self.address) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.address);
            }
        }
    }
}
