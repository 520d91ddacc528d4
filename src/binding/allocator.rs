//! The addon's allocator on Linux glibc: mimalloc, for the Rust side's own allocations only (Node
//! and V8 keep glibc's).
//!
//! Why: with thousands of live identities, glibc's per-thread arenas kept about 300 bytes of free
//! but unusable memory per identity: the few small allocations an identity keeps from its first
//! refresh are made on the runtime's threads between that refresh's request buffers, and the holes
//! around them stayed. mimalloc's pages hold one size class each, so a kept string never pins a
//! hole of another size (`node bench/bench.js --tenants`, README "Speed").
//!
//! mimalloc commits whole arenas up front where the kernel overcommits, which with transparent huge
//! pages made resident a 2 MiB page per thread that allocates (6 MB more for an idle process here):
//! arenas are committed as used instead, set before the first allocation (an `.init_array` entry
//! with a priority runs before the unprioritised constructors of this library, napi-rs's among them).

#[cfg(not(test))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[used]
#[link_section = ".init_array.00101"]
static COMMIT_ARENAS_AS_USED: extern "C" fn() = commit_arenas_as_used;

/// `mi_option_arena_eager_commit` in the `mi_option_e` of libmimalloc-sys 0.1.49's mimalloc
/// (`c_src/mimalloc/v2/include/mimalloc.h`; the crate has no constant for it, hence the pinned
/// version in Cargo.toml). `idle_rss` in `__test__/runtime/` fails if it stops taking effect.
const ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;

extern "C" fn commit_arenas_as_used() {
    // SAFETY: sets one option's value; mimalloc reads it when it reserves an arena.
    unsafe { libmimalloc_sys::mi_option_set(ARENA_EAGER_COMMIT, 0) }
}
