//! The one shape of Heimdall's background loops (webhook delivery, mail, retention,
//! the audit buffer): a pass when started, then again whenever woken, when the job
//! has something to react to, or after a while; on shutdown the job finishes what
//! it holds, and the loop ends.

use std::{future::Future, sync::Arc, time::Duration};

use tokio::sync::{Notify, watch};

/// A background job: what one pass does, what else it waits on between passes,
/// and what it finishes before stopping.
pub trait Job: Send + 'static {
    /// One pass (claim and send what is due, purge what has expired, …).
    fn pass(&mut self) -> impl Future<Output = ()> + Send;

    /// Between passes, something the job itself reacts to (a delivery in flight
    /// finishing, an entry arriving); never completes by default.
    fn event(&mut self) -> impl Future<Output = ()> + Send {
        std::future::pending()
    }

    /// On shutdown: finish what is in hand (bounded by the job's own timeouts).
    fn finish(&mut self) -> impl Future<Output = ()> + Send {
        async {}
    }
}

/// When passes run.
#[derive(Clone)]
pub struct Schedule {
    /// Before the first pass.
    pub first: Duration,
    /// Between passes when nothing happens.
    pub every: Duration,
    /// Wakes the loop early (a write that queued work), followed by `settle`.
    pub wake: Option<Arc<Notify>>,
    /// After a wake-up, time for the waking transaction to commit.
    pub settle: Duration,
}

impl Schedule {
    pub fn every(every: Duration) -> Self {
        Self {
            first: Duration::ZERO,
            every,
            wake: None,
            settle: Duration::ZERO,
        }
    }
}

/// Runs `job` on `schedule` until `stop` turns true (or its sender is gone).
pub fn spawn<J: Job>(
    mut job: J,
    schedule: Schedule,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let stopped = |stop: &watch::Receiver<bool>| *stop.borrow();
        if !schedule.first.is_zero() {
            tokio::select! {
                changed = stop.changed() => {
                    if changed.is_err() || stopped(&stop) {
                        job.finish().await;
                        return;
                    }
                }
                () = tokio::time::sleep(schedule.first) => {}
            }
        }
        loop {
            if stopped(&stop) {
                break;
            }
            job.pass().await;
            let woken = async {
                match &schedule.wake {
                    Some(wake) => wake.notified().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                changed = stop.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
                () = woken => tokio::time::sleep(schedule.settle).await,
                () = job.event() => {}
                () = tokio::time::sleep(schedule.every) => {}
            }
        }
        job.finish().await;
    })
}
