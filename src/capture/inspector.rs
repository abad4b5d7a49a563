//! Finding a target: the inspector's address (loopback unless allowed otherwise) and its
//! targets as the DevTools HTTP endpoint lists them (`GET /json/list`, the same list
//! `chrome://inspect` shows).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::time::Duration;

use serde::Deserialize;

use super::CaptureError;

/// Bound on `/json/list` (a browser with many tabs lists a few KB per target).
const MAX_LIST_BYTES: u64 = 4 << 20;
/// Bound on one HTTP exchange with the inspector's endpoint.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// An inspector's HTTP and WebSocket endpoint: what the user wrote and the addresses it
/// resolved to (all loopback unless remote addresses were allowed).
#[derive(Clone, Debug)]
pub struct Inspector {
    pub address: String,
    addrs: Vec<SocketAddr>,
}

/// One debuggable target: a Node process, a page, a worker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub id: String,
    /// `node`, `page`, `worker`, `service_worker`, …
    pub kind: String,
    pub title: String,
    pub url: String,
    /// The inspector's address the session connects to (the one that listed the target: the
    /// host in `webSocketDebuggerUrl` is the peer's word and is not followed).
    pub address: SocketAddr,
    /// The WebSocket path, e.g. `/4b5c…` for Node, `/devtools/page/…` for Chromium.
    pub ws_path: String,
}

impl Target {
    /// How a message names it: `node "server.js" (127.0.0.1:9229)`.
    pub fn label(&self) -> String {
        let name = if self.title.is_empty() {
            &self.url
        } else {
            &self.title
        };
        format!("{} {:?} ({})", self.kind, name, self.address)
    }
}

#[derive(Deserialize)]
struct ListedTarget {
    #[serde(default)]
    id: String,
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    url: String,
    #[serde(default, rename = "webSocketDebuggerUrl")]
    ws_url: Option<String>,
}

impl Inspector {
    /// Resolves `HOST:PORT`; refuses any address off this machine unless `allow_remote`.
    pub fn resolve(address: &str, allow_remote: bool) -> Result<Inspector, CaptureError> {
        let addrs = resolve_checked(address, allow_remote)?;
        Ok(Inspector {
            address: address.to_string(),
            addrs,
        })
    }

    /// An address found on this machine (a `--pid`'s listening socket).
    pub fn at(addr: SocketAddr) -> Inspector {
        Inspector {
            address: addr.to_string(),
            addrs: vec![addr],
        }
    }

    /// The targets the inspector lists, from the first of its addresses that answers.
    pub fn targets(&self) -> Result<Vec<Target>, CaptureError> {
        let agent = http_agent(HTTP_TIMEOUT);
        let mut last_error = String::from("no address");
        for &addr in &self.addrs {
            let url = format!("http://{addr}/json/list");
            let body = match get_text(&agent, &url, MAX_LIST_BYTES) {
                Ok((200, body)) => body,
                Ok((status, _)) => {
                    last_error = format!("/json/list answered HTTP {status}");
                    continue;
                }
                Err(e) => {
                    last_error = e;
                    continue;
                }
            };
            let listed: Vec<ListedTarget> =
                serde_json::from_str(&body).map_err(|e| CaptureError::Garbage {
                    address: self.address.clone(),
                    what: format!("/json/list is not a target list ({e})"),
                })?;
            return Ok(listed
                .into_iter()
                .map(|t| Target {
                    ws_path: t.ws_url.as_deref().and_then(ws_path).unwrap_or_default(),
                    id: t.id,
                    kind: t.kind,
                    title: t.title,
                    url: t.url,
                    address: addr,
                })
                .collect());
        }
        Err(CaptureError::NoInspector {
            address: self.address.clone(),
            reason: last_error,
        })
    }

    /// The target `wanted` names (its id, or part of its URL or title), or without a name the
    /// first Node target (the first page when there is none, as on a Chromium port).
    pub fn choose(&self, wanted: Option<&str>) -> Result<Target, CaptureError> {
        let targets = self.targets()?;
        let listing = || {
            if targets.is_empty() {
                "it lists no targets".to_string()
            } else {
                let names: Vec<String> = targets
                    .iter()
                    .map(|t| format!("{} {} {:?}", t.id, t.kind, t.url))
                    .collect();
                format!("it lists: {}", names.join("; "))
            }
        };
        let chosen = match wanted {
            Some(w) => {
                if let Some(t) = targets.iter().find(|t| t.id == w) {
                    t
                } else {
                    let matching: Vec<&Target> = targets
                        .iter()
                        .filter(|t| t.url.contains(w) || t.title.contains(w))
                        .collect();
                    match matching.as_slice() {
                        [one] => *one,
                        [] => {
                            return Err(CaptureError::NoTarget(format!(
                                "no target at {} matches {w:?} (its id, or part of its URL or title); {}",
                                self.address,
                                listing()
                            )));
                        }
                        many => {
                            return Err(CaptureError::NoTarget(format!(
                                "{} targets at {} match {w:?}; name one by id: {}",
                                many.len(),
                                self.address,
                                many.iter()
                                    .map(|t| format!("{} {:?}", t.id, t.url))
                                    .collect::<Vec<_>>()
                                    .join("; ")
                            )));
                        }
                    }
                }
            }
            None => match targets
                .iter()
                .find(|t| t.kind == "node")
                .or_else(|| targets.iter().find(|t| t.kind == "page"))
            {
                Some(t) => t,
                None => {
                    return Err(CaptureError::NoTarget(format!(
                        "no Node target at {}; {}",
                        self.address,
                        listing()
                    )));
                }
            },
        };
        if chosen.ws_path.is_empty() {
            return Err(CaptureError::NoTarget(format!(
                "target {} offers no WebSocket (a debugger may be attached to it already)",
                chosen.label()
            )));
        }
        Ok(chosen.clone())
    }
}

/// The path of a `ws://HOST:PORT/PATH` URL.
fn ws_path(url: &str) -> Option<String> {
    let rest = url.strip_prefix("ws://")?;
    let slash = rest.find('/')?;
    let path = &rest[slash..];
    // The path goes into a request line: refuse anything a header could be smuggled in.
    path.bytes()
        .all(|b| b.is_ascii_graphic())
        .then(|| path.to_string())
}

/// `HOST:PORT` to socket addresses, every one on this machine unless `allow_remote`. An
/// unspecified address (`0.0.0.0`) is reached through loopback, as the kernel would.
pub(crate) fn resolve_checked(
    address: &str,
    allow_remote: bool,
) -> Result<Vec<SocketAddr>, CaptureError> {
    let (host, port) = address
        .rsplit_once(':')
        .ok_or_else(|| CaptureError::BadAddress(format!("expected HOST:PORT, got {address:?}")))?;
    if port.parse::<u16>().is_err() || host.is_empty() {
        return Err(CaptureError::BadAddress(format!(
            "expected HOST:PORT, got {address:?}"
        )));
    }
    let addrs: Vec<SocketAddr> = address
        .to_socket_addrs()
        .map_err(|e| CaptureError::BadAddress(format!("cannot resolve {address:?}: {e}")))?
        .map(|a| match a.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => {
                SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), a.port())
            }
            IpAddr::V6(ip) if ip.is_unspecified() => {
                SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), a.port())
            }
            _ => a,
        })
        .collect();
    if addrs.is_empty() {
        return Err(CaptureError::BadAddress(format!(
            "{address:?} resolves to no address"
        )));
    }
    if !allow_remote && let Some(remote) = addrs.iter().find(|a| !is_loopback(a.ip())) {
        return Err(CaptureError::NotLoopback(
            if remote.to_string() == address {
                address.to_string()
            } else {
                format!("{address} ({})", remote.ip())
            },
        ));
    }
    Ok(addrs)
}

/// 127.0.0.0/8, ::1, and IPv4 loopback mapped into IPv6.
pub(crate) fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// An HTTP client that only goes where it is told: no proxy from the environment (a snapshot
/// routine must not leak through `HTTP_PROXY`), no redirects, statuses returned rather than
/// raised, every exchange bounded in time.
pub(crate) fn http_agent(timeout: Duration) -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .proxy(None)
        .max_redirects(0)
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .build();
    ureq::Agent::new_with_config(config)
}

/// GET `url`: its status and at most `limit` bytes of its body as text.
pub(crate) fn get_text(
    agent: &ureq::Agent,
    url: &str,
    limit: u64,
) -> Result<(u16, String), String> {
    let mut response = agent.get(url).call().map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .with_config()
        .limit(limit)
        .read_to_string()
        .map_err(|e| e.to_string())?;
    Ok((status, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_only_unless_allowed() {
        assert!(resolve_checked("127.0.0.1:9229", false).is_ok());
        assert!(resolve_checked("[::1]:9229", false).is_ok());
        assert!(resolve_checked("127.3.4.5:1", false).is_ok());
        assert!(matches!(
            resolve_checked("192.0.2.1:9229", false),
            Err(CaptureError::NotLoopback(_))
        ));
        assert!(matches!(
            resolve_checked("[2001:db8::1]:9229", false),
            Err(CaptureError::NotLoopback(_))
        ));
        assert!(resolve_checked("192.0.2.1:9229", true).is_ok());
        assert_eq!(
            resolve_checked("0.0.0.0:9229", false).ok(),
            Some(vec!["127.0.0.1:9229".parse().unwrap()])
        );
        assert!(matches!(
            resolve_checked("9229", false),
            Err(CaptureError::BadAddress(_))
        ));
        assert!(matches!(
            resolve_checked("127.0.0.1:99999", false),
            Err(CaptureError::BadAddress(_))
        ));
        assert!(is_loopback("::ffff:127.0.0.1".parse().unwrap()));
    }

    #[test]
    fn websocket_path_is_taken_from_the_url_but_not_the_host() {
        assert_eq!(
            ws_path("ws://127.0.0.1:9229/4b5c-11").as_deref(),
            Some("/4b5c-11")
        );
        assert_eq!(
            ws_path("ws://evil.example:1/devtools/page/AB").as_deref(),
            Some("/devtools/page/AB")
        );
        assert_eq!(ws_path("wss://127.0.0.1:9229/x"), None);
        assert_eq!(ws_path("ws://127.0.0.1:9229/a\r\nX: y"), None);
        assert_eq!(ws_path("ws://127.0.0.1:9229"), None);
    }
}
