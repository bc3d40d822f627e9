//! The epoch ticker: one thread that advances every plugin engine's epoch each [`EPOCH_TICK`]
//! while a plugin call may still be running, and sleeps otherwise.
//!
//! Epoch ticks are what stop a plugin at its deadline (and let an async call yield), so they
//! are needed only until the latest deadline armed so far. A call's budget reports its
//! deadline here when it is armed or extended ([`keep_ticking_until`]); once the ticker is
//! [`GRACE`] past the latest one it parks, and the next deadline wakes it. An idle gateway, or
//! one serving routes without plugins, no longer wakes a thread a thousand times a second.
//!
//! On the request path this costs one relaxed load per call: the shared deadline is written
//! only when a call's deadline lies more than [`SLACK`] beyond it (a few times a second under
//! load), and the ticker is woken only when it sleeps.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::thread::Thread;
use std::time::Duration;

use wasmtime::{Engine, EngineWeak};

use super::budget::{nanos, nanos_since_now};

/// How often the engines' epochs advance; the granularity of plugin deadlines.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(1);

/// How far a call's deadline may lie beyond the recorded one before it is recorded: bounds the
/// writes to the shared deadline under load. Must stay well under [`GRACE`].
const SLACK: Duration = Duration::from_millis(10);

/// How long the ticker goes on past the latest recorded deadline before it sleeps. Larger than
/// [`SLACK`] plus a tick, so a deadline within `SLACK` of the recorded one still gets its tick.
const GRACE: Duration = Duration::from_secs(1);

/// A ticker thread and what it needs.
struct Ticker {
    /// The engines to tick; dropped engines are forgotten at the next tick.
    engines: Mutex<Vec<EngineWeak>>,
    /// The latest deadline armed, in nanoseconds since the budget's origin.
    needed_until_ns: AtomicU64,
    /// Set while the ticker thread parks (or is about to).
    asleep: AtomicBool,
    /// How long the ticker goes on past `needed_until_ns` ([`GRACE`] but in tests).
    grace: Duration,
    /// The ticker thread, to unpark; set right after it is spawned.
    thread: OnceLock<Thread>,
}

/// The process's ticker, started by the first engine.
static TICKER: OnceLock<&'static Ticker> = OnceLock::new();

/// Has `engine`'s epoch advanced every tick, starting the ticker on first use.
pub(crate) fn register(engine: &Engine) -> std::io::Result<()> {
    // Engines are built rarely: a lock around the start keeps it to one thread.
    static START: Mutex<()> = Mutex::new(());
    let _once = START.lock().unwrap_or_else(|poison| poison.into_inner());
    let ticker = match TICKER.get() {
        Some(ticker) => *ticker,
        None => {
            let started = Ticker::start(GRACE)?;
            *TICKER.get_or_init(|| started)
        }
    };
    ticker.register(engine);
    Ok(())
}

/// Makes sure ticks go on at least until `deadline_ns` (nanoseconds since the budget's
/// origin), waking the ticker if it sleeps.
pub(crate) fn keep_ticking_until(deadline_ns: u64) {
    if let Some(ticker) = TICKER.get() {
        ticker.keep_ticking_until(deadline_ns);
    }
}

impl Ticker {
    /// Starts a ticker thread; it lives as long as the process.
    fn start(grace: Duration) -> std::io::Result<&'static Ticker> {
        let ticker: &'static Ticker = Box::leak(Box::new(Ticker {
            engines: Mutex::new(Vec::new()),
            needed_until_ns: AtomicU64::new(0),
            asleep: AtomicBool::new(false),
            grace,
            thread: OnceLock::new(),
        }));
        let thread = std::thread::Builder::new()
            .name("wasmgate-epoch".into())
            .spawn(move || ticker.run())?;
        let _ = ticker.thread.set(thread.thread().clone());
        Ok(ticker)
    }

    fn register(&self, engine: &Engine) {
        let mut engines = self.engines.lock().unwrap_or_else(|p| p.into_inner());
        engines.push(engine.weak());
    }

    fn keep_ticking_until(&self, deadline_ns: u64) {
        let recorded = self.needed_until_ns.load(Ordering::Relaxed);
        if deadline_ns <= recorded.saturating_add(nanos(SLACK)) {
            // The ticker runs until `grace` past `recorded`, past this deadline too.
            return;
        }
        self.needed_until_ns
            .fetch_max(deadline_ns, Ordering::SeqCst);
        // Pairs with the ticker's store of `asleep` then load of the deadline: either it sees
        // the new deadline and stays up, or this sees it asleep and wakes it.
        if self.asleep.load(Ordering::SeqCst)
            && let Some(thread) = self.thread.get()
        {
            thread.unpark();
        }
    }

    /// The ticker thread's loop.
    fn run(&self) {
        loop {
            self.tick();
            std::thread::sleep(EPOCH_TICK);
            if self.is_past_grace() {
                self.asleep.store(true, Ordering::SeqCst);
                // Checked again after `asleep` is visible: a deadline recorded in between
                // either shows here or finds the ticker asleep and unparks it.
                while self.is_past_grace() {
                    std::thread::park();
                }
                self.asleep.store(false, Ordering::SeqCst);
            }
        }
    }

    /// Advances every live engine's epoch.
    fn tick(&self) {
        let mut engines = self.engines.lock().unwrap_or_else(|p| p.into_inner());
        engines.retain(|weak| match weak.upgrade() {
            Some(engine) => {
                engine.increment_epoch();
                true
            }
            None => false,
        });
    }

    /// Whether the latest recorded deadline is more than `grace` ago.
    fn is_past_grace(&self) -> bool {
        let needed = self.needed_until_ns.load(Ordering::SeqCst);
        nanos_since_now() > needed.saturating_add(nanos(self.grace))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use super::*;

    fn wait_until(what: impl Fn() -> bool) -> bool {
        (0..500).any(|_| {
            std::thread::sleep(Duration::from_millis(10));
            what()
        })
    }

    /// `(module (func (export "spin") (loop (br 0))))`, encoded (wasmtime is built without its
    /// text parser).
    const SPIN_MODULE: &[u8] = &[
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
        0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // types: () -> ()
        0x03, 0x02, 0x01, 0x00, // functions: one of type 0
        0x07, 0x08, 0x01, 0x04, b's', b'p', b'i', b'n', 0x00, 0x00, // export "spin"
        0x0a, 0x09, 0x01, 0x07, 0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b, // loop { br 0 }
    ];

    /// Runs a guest that spins until an epoch tick stops it; whether one did within 5 s.
    fn a_tick_stops_a_spinning_guest(engine: &Engine) -> bool {
        let engine = engine.clone();
        let (done, finished) = mpsc::channel();
        std::thread::spawn(move || {
            let mut store = wasmtime::Store::new(&engine, ());
            store.set_epoch_deadline(1);
            let module = wasmtime::Module::new(&engine, SPIN_MODULE).expect("module");
            let instance = wasmtime::Instance::new(&mut store, &module, &[]).expect("instance");
            let spin = instance
                .get_typed_func::<(), ()>(&mut store, "spin")
                .expect("spin");
            let _ = done.send(spin.call(&mut store, ()).is_err());
        });
        finished
            .recv_timeout(Duration::from_secs(5))
            .unwrap_or(false)
    }

    #[test]
    fn the_ticker_sleeps_with_nothing_armed_and_wakes_for_a_deadline() {
        let mut config = wasmtime::Config::new();
        config.epoch_interruption(true);
        let engine = Engine::new(&config).expect("engine");
        let ticker = Ticker::start(Duration::from_millis(20)).expect("ticker");
        ticker.register(&engine);

        assert!(
            wait_until(|| ticker.asleep.load(Ordering::SeqCst)),
            "the ticker sleeps when no deadline is armed"
        );
        ticker.keep_ticking_until(nanos_since_now() + nanos(Duration::from_secs(1)));
        assert!(
            a_tick_stops_a_spinning_guest(&engine),
            "a deadline woke the ticker and its tick stopped the guest"
        );
        assert!(
            wait_until(|| ticker.asleep.load(Ordering::SeqCst)),
            "and it sleeps again once the deadline and its grace have passed"
        );
    }
}
