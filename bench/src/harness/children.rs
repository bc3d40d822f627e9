//! Child processes (backend, gateways, nginx, wrk) that never outlive the harness.
//!
//! Each child gets its own process group, so killing the group also takes nginx's workers. The
//! groups are recorded in one registry that is emptied — every group sent `SIGKILL` — when a
//! [`ChildProcess`] is dropped, when any thread panics, and on `SIGINT`/`SIGTERM`/`SIGHUP` (see
//! [`install_cleanup`]). When `setpriv` (util-linux) is present, children are also started with
//! a parent-death signal, so even a `SIGKILL`ed harness leaves no server behind.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::sync::Mutex;

use anyhow::Context as _;
use rustix::process::{Pid, Signal, kill_process_group};

/// Process groups of the children alive now.
static GROUPS: Mutex<Vec<i32>> = Mutex::new(Vec::new());
/// Scratch directories to remove when the harness is interrupted.
static SCRATCH: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// A running child process, killed (with its whole process group) when dropped.
pub struct ChildProcess {
    name: String,
    child: Child,
    reaped: bool,
}

impl ChildProcess {
    /// Starts `command` in a new process group. `name` appears in error messages.
    pub fn spawn(name: &str, mut command: Command) -> anyhow::Result<Self> {
        use std::os::unix::process::CommandExt as _;
        command.process_group(0);
        let child = command
            .spawn()
            .with_context(|| format!("cannot start {name} ({:?})", command.get_program()))?;
        lock(&GROUPS).push(child.id() as i32);
        Ok(ChildProcess {
            name: name.to_owned(),
            child,
            reaped: false,
        })
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its exit status, if it has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        let status = self.child.try_wait().ok().flatten();
        if status.is_some() {
            // Reaped: its id may be reused now, so it must not be signalled any more.
            self.reaped = true;
            forget_group(self.child.id() as i32);
        }
        status
    }

    /// Waits for it to exit on its own and returns what it wrote to its piped stdout and
    /// stderr.
    pub fn wait_with_output(mut self) -> anyhow::Result<(ExitStatus, String, String)> {
        use std::io::Read as _;
        let stderr = self.child.stderr.take().map(|mut pipe| {
            std::thread::spawn(move || {
                let mut text = String::new();
                let _ = pipe.read_to_string(&mut text);
                text
            })
        });
        let mut stdout = String::new();
        if let Some(mut pipe) = self.child.stdout.take() {
            pipe.read_to_string(&mut stdout)
                .with_context(|| format!("reading the output of {}", self.name))?;
        }
        let stderr = stderr
            .map(|reader| reader.join().unwrap_or_default())
            .unwrap_or_default();
        let status = self.wait_in_place()?;
        Ok((status, stdout, stderr))
    }

    /// Waits for it to exit on its own.
    pub fn wait(mut self) -> anyhow::Result<ExitStatus> {
        self.wait_in_place()
    }

    fn wait_in_place(&mut self) -> anyhow::Result<ExitStatus> {
        let status = self
            .child
            .wait()
            .with_context(|| format!("waiting for {}", self.name))?;
        self.reaped = true;
        forget_group(self.child.id() as i32);
        Ok(status)
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        if self.reaped {
            return;
        }
        let group = self.child.id() as i32;
        kill_group(group);
        let _ = self.child.wait();
        forget_group(group);
    }
}

/// A command for `program` that dies with the harness: wrapped in `setpriv --pdeathsig KILL`
/// when `setpriv` is installed (the signal survives `exec`), plain otherwise.
pub fn command(program: impl AsRef<Path>) -> Command {
    let setpriv = Path::new("/usr/bin/setpriv");
    if setpriv.exists() {
        let mut command = Command::new(setpriv);
        command
            .args(["--pdeathsig", "KILL", "--"])
            .arg(program.as_ref());
        command
    } else {
        Command::new(program.as_ref())
    }
}

/// Registers a scratch directory to remove if the harness is interrupted.
pub fn register_scratch(dir: &Path) {
    lock(&SCRATCH).push(dir.to_owned());
}

/// Kills every child group still alive and removes registered scratch directories.
pub fn kill_all() {
    let groups = std::mem::take(&mut *lock(&GROUPS));
    for group in groups {
        kill_group(group);
    }
    for dir in std::mem::take(&mut *lock(&SCRATCH)) {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Kills every child on panic (any thread) and on `SIGINT`, `SIGTERM` or `SIGHUP`, after which
/// the harness exits with status 130.
pub fn install_cleanup() -> anyhow::Result<()> {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        kill_all();
        default_hook(info);
    }));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("signal runtime")?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            runtime.block_on(async {
                use tokio::signal::unix::{SignalKind, signal};
                let (Ok(mut int), Ok(mut term), Ok(mut hup)) = (
                    signal(SignalKind::interrupt()),
                    signal(SignalKind::terminate()),
                    signal(SignalKind::hangup()),
                ) else {
                    return;
                };
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                    _ = hup.recv() => {}
                }
                eprintln!("harness: interrupted; stopping every child process");
                kill_all();
                std::process::exit(130);
            });
        })
        .context("signal thread")?;
    Ok(())
}

fn kill_group(group: i32) {
    if let Some(pid) = Pid::from_raw(group) {
        let _ = kill_process_group(pid, Signal::KILL);
    }
}

fn forget_group(group: i32) {
    lock(&GROUPS).retain(|g| *g != group);
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
