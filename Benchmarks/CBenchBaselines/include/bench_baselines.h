// C baselines for busmaster-bench: the same work as the Swift hot paths, written in plain C,
// measured in the same run so results are ratios rather than absolute numbers.
#ifndef BENCH_BASELINES_H
#define BENCH_BASELINES_H

#include <stddef.h>
#include <stdint.h>

/// Alternating volatile 32-bit writes and reads over a region of `words` words, `rounds` times.
/// Returns a checksum of the values read (so the loop cannot be removed).
uint64_t bench_c_mmio_rw(volatile void *base, size_t words, size_t rounds);

/// One scatter/gather element, laid out like the core's `DMASegment` (bus address, length,
/// offset in the buffer), so both builders read the same input.
typedef struct { uint64_t bus; int64_t length; int64_t buffer_offset; } bench_sg_element;

/// Builds an XDMA descriptor chain (32-byte descriptors: magic 0xAD4B, adjacency, Stop and
/// Completed on the last, length, source, destination, next) for a host-to-card transfer of
/// `count` elements into `descriptors` (bus address `descriptor_bus`), card address `card`.
/// Returns the start adjacency (the value for SGDMA 0x88).
uint32_t bench_c_xdma_chain(void *descriptors, uint64_t descriptor_bus, const bench_sg_element *elements,
                            size_t count, uint64_t card);

/// Eventfd ping-pong between two threads: returns the median round-trip time in nanoseconds
/// over `iterations` round trips (one-way latency is about half).
double bench_c_eventfd_pingpong(size_t iterations);

#endif
