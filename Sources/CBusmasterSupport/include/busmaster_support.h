// Tiny C shims for Busmaster: volatile MMIO accessors, memory fences and the
// Linux headers whose declarations Swift's Glibc module does not expose
// (eventfd, epoll, VFIO). Everything here is header-only and `static inline`
// so that Clang inlines it into Swift callers.
#ifndef BUSMASTER_SUPPORT_H
#define BUSMASTER_SUPPORT_H

#include <stdint.h>
#include <stddef.h>
#include <sys/eventfd.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <linux/vfio.h>

// MARK: Volatile MMIO. Each call is exactly one access of the named width.

static inline uint8_t bm_mmio_read8(const volatile void *p) { return *(const volatile uint8_t *)p; }
static inline uint16_t bm_mmio_read16(const volatile void *p) { return *(const volatile uint16_t *)p; }
static inline uint32_t bm_mmio_read32(const volatile void *p) { return *(const volatile uint32_t *)p; }
static inline uint64_t bm_mmio_read64(const volatile void *p) { return *(const volatile uint64_t *)p; }
static inline void bm_mmio_write8(volatile void *p, uint8_t v) { *(volatile uint8_t *)p = v; }
static inline void bm_mmio_write16(volatile void *p, uint16_t v) { *(volatile uint16_t *)p = v; }
static inline void bm_mmio_write32(volatile void *p, uint32_t v) { *(volatile uint32_t *)p = v; }
static inline void bm_mmio_write64(volatile void *p, uint64_t v) { *(volatile uint64_t *)p = v; }

// MARK: Fences between DMA memory and MMIO.

/// Orders earlier stores to DMA memory before a later doorbell write.
static inline void bm_fence_release(void) { __atomic_thread_fence(__ATOMIC_RELEASE); }
/// Orders a completion read before later loads of DMA memory.
static inline void bm_fence_acquire(void) { __atomic_thread_fence(__ATOMIC_ACQUIRE); }
/// Full fence (mfence on x86); use before doorbells on write-combining mappings.
static inline void bm_fence_full(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }

/// Acquire load of a 32-bit word in DMA memory that a device writes (poll-mode writebacks).
static inline uint32_t bm_load_acquire32(const void *p) { return __atomic_load_n((const uint32_t *)p, __ATOMIC_ACQUIRE); }
/// Relaxed store of a 32-bit word in DMA memory.
static inline void bm_store_release32(void *p, uint32_t v) { __atomic_store_n((uint32_t *)p, v, __ATOMIC_RELEASE); }

/// A spin-wait hint (PAUSE on x86, YIELD on arm64).
static inline void bm_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

// MARK: Small wrappers for variadic or macro-only libc entry points.

static inline int bm_ioctl_ptr(int fd, unsigned long request, void *arg) { return ioctl(fd, request, arg); }
static inline int bm_ioctl_val(int fd, unsigned long request, unsigned long arg) { return ioctl(fd, request, arg); }
static inline int bm_ioctl_none(int fd, unsigned long request) { return ioctl(fd, request); }

static inline int bm_eventfd(unsigned int initval, int flags) { return eventfd(initval, flags); }
static inline int bm_efd_cloexec(void) { return EFD_CLOEXEC; }
static inline int bm_efd_nonblock(void) { return EFD_NONBLOCK; }

static inline void *bm_map_failed(void) { return MAP_FAILED; }

#endif
