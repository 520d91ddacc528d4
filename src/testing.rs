//! Helpers shared by the Rust tests: an empty environment, and temporary directories that remove
//! themselves.

use std::path::{Path, PathBuf};

use crate::env::Env;

/// An environment with no variable set: no test reads the machine's own configuration.
pub fn no_env() -> Env {
    Env::from_pairs::<&str, &str>([])
}

/// A fresh directory under the system's temporary folder, removed with everything in it when
/// dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    /// A new directory whose name starts with `acn-<tag>-`.
    pub fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "acn-{tag}-{}-{}",
            std::process::id(),
            crate::encoding::nonce()
        ));
        std::fs::create_dir_all(&dir).expect("create a temporary directory");
        TempDir(dir)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The allocator of the test builds: the system's, counting the bytes live and the allocations
/// made by each thread (a block freed by another thread than the one that made it counts against
/// that one), so a test can measure what its own work keeps.
pub struct Counting;

thread_local! {
    static LIVE: std::cell::Cell<isize> = const { std::cell::Cell::new(0) };
    static ALLOCATIONS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    static BLOCKS: std::cell::Cell<isize> = const { std::cell::Cell::new(0) };
}

fn count(bytes: isize, allocations: usize, blocks: isize) {
    // `try_with`: a thread's last frees run after its locals are gone.
    let _ = LIVE.try_with(|l| l.set(l.get() + bytes));
    let _ = ALLOCATIONS.try_with(|a| a.set(a.get() + allocations));
    let _ = BLOCKS.try_with(|b| b.set(b.get() + blocks));
}

// SAFETY: every call is passed to the system allocator unchanged; counting allocates nothing.
unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        count(layout.size() as isize, 1, 1);
        unsafe { std::alloc::System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        count(-(layout.size() as isize), 0, -1);
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        count(new_size as isize - layout.size() as isize, 1, 0);
        unsafe { std::alloc::System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// Bytes live and allocations made by this thread so far.
pub fn counted() -> (isize, usize) {
    (
        LIVE.try_with(|l| l.get()).unwrap_or(0),
        ALLOCATIONS.try_with(|a| a.get()).unwrap_or(0),
    )
}

/// Blocks live (allocated and not yet freed) by this thread's count, as [`counted`] counts bytes.
pub fn live_blocks() -> isize {
    BLOCKS.try_with(|b| b.get()).unwrap_or(0)
}
