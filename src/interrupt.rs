//! Ctrl-C as "cancel this query", for programs that stay alive across queries (the shell,
//! the Python package). [`catch`] makes SIGINT only counted instead of ending the process;
//! [`cancellable`] runs a future until it completes or Ctrl-C is pressed after it started,
//! and drops it in that case: DataFusion stops a plan's tasks when its stream is dropped,
//! and an unfinished `COPY` output is removed when its staging guard is.

use std::future::Future;
use std::time::Duration;

/// How often a waiting [`cancellable`] looks at the count: the longest a cancelled query
/// keeps running after Ctrl-C.
pub const POLL: Duration = Duration::from_millis(50);

/// From now on Ctrl-C (SIGINT) no longer ends the process; it cancels what [`cancellable`]
/// runs. Other signals keep their handlers (SIGTERM still ends the process).
pub fn catch() -> std::io::Result<()> {
    crate::sys::count_sigint()
}

/// Ctrl-C presses counted since [`catch`].
pub fn presses() -> u64 {
    crate::sys::sigints()
}

/// Runs `work` to completion (`Some`), or until Ctrl-C is pressed while it runs (`None`,
/// `work` dropped). Needs a Tokio runtime with timers.
pub async fn cancellable<F: Future>(work: F) -> Option<F::Output> {
    let start = presses();
    let pressed = async {
        while presses() == start {
            tokio::time::sleep(POLL).await;
        }
    };
    tokio::select! {
        out = work => Some(out),
        () = pressed => None,
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn work_that_ends_is_not_cancelled() {
        assert_eq!(super::cancellable(async { 7 }).await, Some(7));
    }

    #[tokio::test]
    async fn a_sigint_cancels_running_work_and_the_process_lives() {
        super::catch().expect("handler");
        let work = super::cancellable(std::future::pending::<()>());
        let press = async {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            send_sigint();
        };
        let (out, ()) = tokio::join!(work, press);
        assert_eq!(out, None);
    }

    /// Sends SIGINT to this process through the `kill` command (no unsafe code here).
    fn send_sigint() {
        let pid = std::process::id().to_string();
        let status = std::process::Command::new("kill").args(["-INT", &pid]).status().expect("kill");
        assert!(status.success());
    }
}
