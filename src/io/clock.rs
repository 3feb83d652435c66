//! The real peer's clock: [`Time`] is nanoseconds since the peer started, read from the
//! monotonic clock, so it never goes backwards (the Node's time rule).

use crate::time::Time;

/// Monotonic time since the peer started.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    start: tokio::time::Instant,
}

impl Clock {
    /// A clock whose zero is now.
    pub fn start() -> Clock {
        Clock {
            start: tokio::time::Instant::now(),
        }
    }

    /// Now, in nanoseconds since the start.
    pub fn now(&self) -> Time {
        Time(self.start.elapsed().as_nanos() as u64)
    }

    /// The instant of `t`, for `sleep_until`.
    pub fn instant(&self, t: Time) -> tokio::time::Instant {
        self.start + std::time::Duration::from_nanos(t.0)
    }
}
