//! A real SMTP server on loopback for the tests: a tokio listener that speaks
//! enough SMTP (EHLO/HELO, MAIL FROM, RCPT TO, DATA, RSET, NOOP, QUIT) for lettre,
//! records every message and can refuse the next N deliveries with a 451.

#![allow(dead_code)]

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
    sync::Notify,
};

/// A received message.
#[derive(Clone, Debug)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    /// The DATA as sent (headers and MIME body).
    pub data: String,
}

impl Mail {
    /// The data with quoted-printable soft breaks and escapes undone.
    pub fn decoded(&self) -> String {
        let joined = self.data.replace("=\r\n", "");
        let bytes = joined.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        let upper_hex = |b: u8| b.is_ascii_digit() || (b'A'..=b'F').contains(&b);
        while i < bytes.len() {
            if bytes[i] == b'='
                && i + 2 < bytes.len()
                && upper_hex(bytes[i + 1])
                && upper_hex(bytes[i + 2])
            {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// The `Subject` header, unfolded, its RFC 2047 encoded words (`=?utf-8?b?…?=`,
    /// which non-ASCII subjects are sent as) decoded.
    pub fn subject(&self) -> String {
        let mut lines = self
            .data
            .lines()
            .skip_while(|l| !l.starts_with("Subject: "));
        let mut raw = lines
            .next()
            .and_then(|l| l.strip_prefix("Subject: "))
            .unwrap_or_default()
            .to_owned();
        for folded in lines.take_while(|l| l.starts_with([' ', '\t'])) {
            raw.push_str(folded);
        }
        let mut out = String::new();
        let mut previous_encoded = false;
        for word in raw.split_whitespace() {
            let decoded = word
                .strip_prefix("=?")
                .and_then(|w| w.strip_suffix("?="))
                .and_then(|w| {
                    let mut parts = w.splitn(3, '?');
                    let (_charset, encoding, text) = (parts.next()?, parts.next()?, parts.next()?);
                    match encoding {
                        "b" | "B" => {
                            use base64::Engine;
                            let bytes = base64::engine::general_purpose::STANDARD
                                .decode(text)
                                .ok()?;
                            String::from_utf8(bytes).ok()
                        }
                        _ => None,
                    }
                });
            match decoded {
                Some(text) => {
                    // Whitespace between two encoded words is not part of the text.
                    if !out.is_empty() && !previous_encoded {
                        out.push(' ');
                    }
                    out.push_str(&text);
                    previous_encoded = true;
                }
                None => {
                    if !out.is_empty() {
                        out.push(' ');
                    }
                    out.push_str(word);
                    previous_encoded = false;
                }
            }
        }
        out
    }

    /// The first secret with `prefix` (e.g. `hm_pr_`) in the message.
    pub fn token(&self, prefix: &str) -> String {
        let decoded = self.decoded();
        let start = decoded
            .find(prefix)
            .unwrap_or_else(|| panic!("no {prefix} token in mail:\n{decoded}"));
        decoded[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect()
    }

    /// The first link (`http…`) that carries a token, as the mail shows it.
    pub fn link(&self) -> String {
        let decoded = self.decoded();
        let start = decoded.find("http").expect("a link in the mail");
        decoded[start..]
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '"' && *c != '<')
            .collect()
    }
}

/// The running sink.
pub struct SmtpSink {
    pub port: u16,
    messages: Arc<Mutex<Vec<Mail>>>,
    refuse: Arc<AtomicUsize>,
    arrived: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let messages = Arc::new(Mutex::new(Vec::new()));
        let refuse = Arc::new(AtomicUsize::new(0));
        let arrived = Arc::new(Notify::new());
        let (m, r, a) = (messages.clone(), refuse.clone(), arrived.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (m, r, a) = (m.clone(), r.clone(), a.clone());
                tokio::spawn(async move {
                    let _ = session(stream, m, r, a).await;
                });
            }
        });
        SmtpSink {
            port,
            messages,
            refuse,
            arrived,
            task,
        }
    }

    /// `HEIMDALL_SMTP_URL` for this sink.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Refuses the next `n` messages at end of DATA with `451`.
    pub fn refuse_next(&self, n: usize) {
        self.refuse.store(n, Ordering::SeqCst);
    }

    pub fn messages(&self) -> Vec<Mail> {
        self.messages.lock().unwrap().clone()
    }

    /// Waits (up to 10 s) until `n` messages have arrived; returns them all.
    pub async fn wait_for(&self, n: usize) -> Vec<Mail> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let notified = self.arrived.notified();
            let current = self.messages();
            if current.len() >= n {
                return current;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!("expected {n} mails, got {}", self.messages().len());
            }
        }
    }

    /// Asserts that no more than `n` messages arrive within `wait`.
    pub async fn assert_count_stays(&self, n: usize, wait: Duration) {
        tokio::time::sleep(wait).await;
        assert_eq!(self.messages().len(), n, "{:#?}", self.messages());
    }
}

fn address(arg: &str) -> String {
    let start = arg.find('<').map(|i| i + 1).unwrap_or(0);
    let end = arg.find('>').unwrap_or(arg.len());
    arg[start..end].to_owned()
}

async fn session(
    stream: TcpStream,
    messages: Arc<Mutex<Vec<Mail>>>,
    refuse: Arc<AtomicUsize>,
    arrived: Arc<Notify>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink.test ESMTP ready\r\n").await?;
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_owned();
        let upper = command.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            write
                .write_all(b"250-sink.test\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 OK\r\n")
                .await?;
        } else if upper.starts_with("HELO") {
            write.write_all(b"250 sink.test\r\n").await?;
        } else if upper.starts_with("MAIL FROM:") {
            from = address(&command[10..]);
            to.clear();
            write.write_all(b"250 OK\r\n").await?;
        } else if upper.starts_with("RCPT TO:") {
            to.push(address(&command[8..]));
            write.write_all(b"250 OK\r\n").await?;
        } else if upper == "DATA" {
            write
                .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                .await?;
            let mut data = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                let unstuffed = line.strip_prefix('.').unwrap_or(&line);
                data.push_str(unstuffed);
            }
            let refused = refuse
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            if refused {
                write.write_all(b"451 4.3.0 try again later\r\n").await?;
            } else {
                messages.lock().unwrap().push(Mail {
                    from: from.clone(),
                    to: to.clone(),
                    data,
                });
                arrived.notify_waiters();
                write.write_all(b"250 OK queued\r\n").await?;
            }
        } else if upper == "RSET" {
            from.clear();
            to.clear();
            write.write_all(b"250 OK\r\n").await?;
        } else if upper == "NOOP" {
            write.write_all(b"250 OK\r\n").await?;
        } else if upper == "QUIT" {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            write.write_all(b"502 command not implemented\r\n").await?;
        }
    }
}
