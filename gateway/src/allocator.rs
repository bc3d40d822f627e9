//! What the gateway asks of the binary's allocator (mimalloc, see `main.rs`): to give back the
//! memory a burst of work freed.

/// Returns to the operating system the free memory the calling thread's allocator heap holds.
///
/// mimalloc keeps freed pages for reuse and purges them later, but only when the thread that
/// freed them allocates again. A thread that compiled a plugin (hundreds of MiB of compiler
/// scratch, freed at the end) and then idles would keep them resident; call this at the end of
/// such a burst. Harmless when mimalloc is not the global allocator (its heaps are then empty).
pub fn release_free_memory() {
    #[allow(unsafe_code)]
    // SAFETY: `mi_collect` takes no pointers and may be called from any thread at any time.
    unsafe {
        libmimalloc_sys::mi_collect(true)
    };
}
