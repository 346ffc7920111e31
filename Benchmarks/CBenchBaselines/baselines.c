#define _GNU_SOURCE
#include "bench_baselines.h"

#include <pthread.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

uint64_t bench_c_mmio_rw(volatile void *base, size_t words, size_t rounds) {
    volatile uint32_t *p = (volatile uint32_t *)base;
    uint64_t sum = 0;
    for (size_t r = 0; r < rounds; r++) {
        for (size_t i = 0; i < words; i++) {
            p[i] = (uint32_t)(i + r);
            sum += p[i];
        }
    }
    return sum;
}

static inline void put32(uint8_t *d, uint32_t v) { memcpy(d, &v, 4); }

uint32_t bench_c_xdma_chain(void *descriptors, uint64_t descriptor_bus, const bench_sg_element *elements,
                            size_t count, uint64_t card) {
    uint8_t *d = (uint8_t *)descriptors;
    for (size_t i = 0; i < count; i++) {
        uint8_t *x = d + 32 * i;
        uint64_t next = i + 1 < count ? descriptor_bus + 32 * (i + 1) : 0;
        uint32_t adj = 0;
        if (i + 1 < count) {
            size_t remaining = count - (i + 1);  // descriptors from next onwards, all contiguous
            uint32_t room = 63 - (uint32_t)((next >> 5) & 63);
            adj = remaining - 1 < room ? (uint32_t)(remaining - 1) : room;
        }
        uint32_t flags = i + 1 == count ? 0x3 : 0;  // Stop | Completed on the last
        put32(x + 0, 0xAD4B0000u | (adj << 8) | flags);
        put32(x + 4, (uint32_t)elements[i].length);
        put32(x + 8, (uint32_t)elements[i].bus);
        put32(x + 12, (uint32_t)(elements[i].bus >> 32));
        put32(x + 16, (uint32_t)card);
        put32(x + 20, (uint32_t)(card >> 32));
        put32(x + 24, (uint32_t)next);
        put32(x + 28, (uint32_t)(next >> 32));
        card += (uint64_t)elements[i].length;
    }
    uint32_t room = 63 - (uint32_t)((descriptor_bus >> 5) & 63);
    return count - 1 < room ? (uint32_t)(count - 1) : room;
}

struct pingpong { int ping, pong; size_t n; };

static void wait_fd(int fd) {
    uint64_t v;
    for (;;) {
        if (read(fd, &v, 8) == 8) return;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        poll(&p, 1, -1);
    }
}

static void *ponger(void *arg) {
    struct pingpong *pp = arg;
    uint64_t one = 1;
    for (size_t i = 0; i < pp->n; i++) {
        wait_fd(pp->ping);
        (void)!write(pp->pong, &one, 8);
    }
    return NULL;
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double bench_c_eventfd_pingpong(size_t iterations) {
    struct pingpong pp = {eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), iterations};
    pthread_t t;
    pthread_create(&t, NULL, ponger, &pp);
    double *samples = malloc(sizeof(double) * iterations);
    uint64_t one = 1;
    for (size_t i = 0; i < iterations; i++) {
        uint64_t t0 = now_ns();
        (void)!write(pp.ping, &one, 8);
        wait_fd(pp.pong);
        samples[i] = (double)(now_ns() - t0);
    }
    pthread_join(t, NULL);
    close(pp.ping);
    close(pp.pong);
    qsort(samples, iterations, sizeof(double), cmp_double);
    double median = samples[iterations / 2];
    free(samples);
    return median;
}
