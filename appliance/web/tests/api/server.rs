//! The router served on a real socket, as `shofar serve` serves it: connections
//! that stall are closed, the plain-HTTP redirect sends browsers only to the
//! box, and HSTS is for HTTPS alone.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use shofar_store::accounts::Role;
use shofar_web::server::{self, Bound, ServeOptions, Timeouts, TlsFiles};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_util::sync::CancellationToken;

use crate::support::TestApp;

/// Short enough for a test; a box uses [`Timeouts::default`].
const SHORT: Timeouts = Timeouts {
    header_read: Duration::from_millis(500),
    idle: Duration::from_secs(1),
    tls_handshake: Duration::from_millis(500),
};

/// Far more than [`SHORT`]'s timeouts: a connection still open then was never
/// going to be closed.
const BOUND: Duration = Duration::from_secs(15);

/// The app served on loopback ports until dropped.
struct Served {
    address: SocketAddr,
    redirect: Option<SocketAddr>,
    stop: CancellationToken,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// The app served with [`SHORT`] timeouts: over HTTPS with a self-signed
/// certificate if `tls`, and then with a plain-HTTP redirect that knows the box
/// as `shofar.local` if `redirect`.
async fn serve(app: &TestApp, tls: bool, redirect: bool) -> Served {
    let options = ServeOptions {
        tls: tls.then(|| self_signed(app)),
        redirect: redirect.then(|| "127.0.0.1:0".parse().unwrap()),
        host_names: vec!["shofar.local".to_owned()],
        timeouts: SHORT,
    };
    let bound = Bound::bind("127.0.0.1:0".parse().unwrap(), options)
        .await
        .unwrap();
    let (address, redirect) = (bound.address, bound.redirect_address);
    let stop = CancellationToken::new();
    tokio::spawn(bound.serve(app.router.clone(), stop.clone()));
    Served {
        address,
        redirect,
        stop,
    }
}

/// Plain HTTP never says Strict-Transport-Security (browsers ignore it there).
#[track_caller]
fn assert_no_hsts(answer: &str) {
    assert!(
        !answer.to_lowercase().contains("strict-transport-security"),
        "{answer}"
    );
}

/// A self-signed certificate for 127.0.0.1 in the app's data folder.
fn self_signed(app: &TestApp) -> TlsFiles {
    let names = ["127.0.0.1".to_owned()];
    server::certificate(None, &app.data_dir().join("tls"), &names)
        .unwrap()
        .0
}

/// Reads until the server closes the connection (end of stream or an error);
/// panics if it is still open after [`BOUND`]. Returns what was read.
async fn read_until_closed(stream: &mut (impl AsyncReadExt + Unpin)) -> String {
    let mut read = Vec::new();
    let mut buffer = [0u8; 4096];
    let closed = tokio::time::timeout(BOUND, async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(n) => read.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    let read = String::from_utf8_lossy(&read).into_owned();
    assert!(closed.is_ok(), "still open after {BOUND:?}; read {read:?}");
    read
}

/// Security probe: a client that sent half a request line and waited kept its
/// connection (and the task serving it) forever. It is closed after the
/// header-read timeout.
#[tokio::test]
async fn a_half_sent_request_is_closed_after_the_header_timeout() {
    let app = TestApp::new();
    let served = serve(&app, false, false).await;
    let mut half = TcpStream::connect(served.address).await.unwrap();
    half.write_all(b"GET /healthz HT").await.unwrap();
    let answer = read_until_closed(&mut half).await;
    assert!(!answer.contains("200 OK"), "{answer}");

    // One that connects and says nothing, likewise.
    let mut silent = TcpStream::connect(served.address).await.unwrap();
    read_until_closed(&mut silent).await;

    // A whole request is answered, and the connection kept alive for the next
    // one is closed when that does not come.
    let mut whole = TcpStream::connect(served.address).await.unwrap();
    whole
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let answer = read_until_closed(&mut whole).await;
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    assert!(answer.contains("\"status\":\"ok\""), "{answer}");
    assert_no_hsts(&answer);
}

/// Security probe: a TLS handshake that never finished held its connection
/// forever. It is bounded too.
#[tokio::test]
async fn a_stalled_tls_handshake_is_closed() {
    let app = TestApp::new();
    let served = serve(&app, true, false).await;
    let mut silent = TcpStream::connect(served.address).await.unwrap();
    read_until_closed(&mut silent).await;
    // The first bytes of a ClientHello, and no more.
    let mut partial = TcpStream::connect(served.address).await.unwrap();
    partial
        .write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
        .await
        .unwrap();
    read_until_closed(&mut partial).await;
}

/// The live WebSocket stays open as long as bytes move on it, however much
/// longer than the idle and header-read timeouts (the dashboard's heartbeat is
/// what moves them on a quiet box); one on which nothing moves is closed.
#[tokio::test]
async fn a_websocket_is_closed_only_when_nothing_moves_on_it() {
    let app = TestApp::new();
    let secret = app.token_for("ana", Role::Analyst).bearer.unwrap();
    let served = serve(&app, false, false).await;
    let mut request = format!("ws://{}/api/v1/live", served.address)
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {secret}").parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let first = socket.next().await.unwrap().unwrap();
    assert!(first.is_text(), "{first:?}");
    // Three times the idle timeout, a ping every 200 ms, each answered.
    for _ in 0..15 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        socket.send(Message::Ping(vec![1].into())).await.unwrap();
        loop {
            match tokio::time::timeout(BOUND, socket.next()).await {
                Ok(Some(Ok(Message::Pong(_)))) => break,
                Ok(Some(Ok(_))) => continue,
                other => panic!("the socket was cut while in use: {other:?}"),
            }
        }
    }
    // Then quiet: closed.
    let closed = tokio::time::timeout(BOUND, async {
        loop {
            match socket.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "a quiet socket was still open after {BOUND:?}"
    );
}

/// Security probe: the plain-HTTP redirect built its Location from the Host
/// header, so a forged Host sent the browser to the forger's site. It sends it to
/// the box: under the name asked for if the box is configured with it, else to
/// the address the request arrived at.
#[tokio::test]
async fn the_redirect_to_https_never_leaves_the_box() {
    let app = TestApp::new();
    let served = serve(&app, true, true).await;
    let port = served.address.port();
    for (host, location) in [
        (
            "evil.example",
            format!("https://127.0.0.1:{port}/campaigns?x=1"),
        ),
        (
            "evil.example:80",
            format!("https://127.0.0.1:{port}/campaigns?x=1"),
        ),
        (
            "10.9.8.7",
            format!("https://127.0.0.1:{port}/campaigns?x=1"),
        ),
        (
            "shofar.local:80",
            format!("https://shofar.local:{port}/campaigns?x=1"),
        ),
        (
            "127.0.0.1",
            format!("https://127.0.0.1:{port}/campaigns?x=1"),
        ),
    ] {
        let mut plain = TcpStream::connect(served.redirect.unwrap()).await.unwrap();
        plain
            .write_all(
                format!("GET /campaigns?x=1 HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")
                    .as_bytes(),
            )
            .await
            .unwrap();
        let answer = read_until_closed(&mut plain).await;
        assert!(answer.starts_with("HTTP/1.1 308"), "{host}: {answer}");
        assert!(
            answer.contains(&format!("location: {location}\r\n")),
            "{host}: {answer}"
        );
        assert_no_hsts(&answer);
    }
}
