//! The progress bar of long-running commands: bytes decoded of the input's total, records per
//! second and the time left, redrawn from the scan's counters by a small thread. Drawn only
//! when stderr is a terminal, so logs and pipes get the summary line alone.

use indicatif::{ProgressBar, ProgressStyle};
use mpq::report::ScanReport;
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A running progress display; [`Progress::finish`] removes it.
pub struct Progress {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts drawing the progress of the scan counted by `report`, out of `total` bytes.
    /// Draws nothing when stderr is not a terminal.
    pub fn start(report: ScanReport, total: u64) -> Progress {
        let stop = Arc::new(AtomicBool::new(false));
        if !std::io::stderr().is_terminal() {
            return Progress { stop, thread: None };
        }
        let bar = ProgressBar::new(total.max(1));
        if let Ok(style) = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg} ETA {eta}",
        ) {
            bar.set_style(style);
        }
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let started = Instant::now();
            while !flag.load(Ordering::Relaxed) {
                let (records, bytes) = report.progress();
                let secs = started.elapsed().as_secs_f64().max(1e-3);
                bar.set_position(bytes.min(total));
                bar.set_message(format!("{:.0} records/s", records as f64 / secs));
                std::thread::sleep(Duration::from_millis(100));
            }
            bar.finish_and_clear();
        });
        Progress { stop, thread: Some(thread) }
    }

    /// Stops and clears the display.
    pub fn finish(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
