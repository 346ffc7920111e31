// CPCIShim: recovering wrappers around libpci (see include/pcishim.h).
#include "pcishim.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// Thread-local recovery state: the jump buffer of the wrapper currently inside a
// libpci call (NULL when none is armed) and the last messages.
static __thread jmp_buf *shim_armed;
static __thread char shim_error[512];
static __thread char shim_warning[512];

__attribute__((noreturn, format(printf, 1, 2))) static void shim_error_handler(char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(shim_error, sizeof shim_error, fmt, ap);
    va_end(ap);
    jmp_buf *target = shim_armed;
    if (target) {
        shim_armed = NULL;
        longjmp(*target, 1);
    }
    // No wrapper is armed: a libpci call was made outside the shim. Behave like
    // libpci's default handler rather than returning into a state libpci does not expect.
    fprintf(stderr, "pcilib: %s\n", shim_error);
    _exit(1);
}

__attribute__((format(printf, 1, 2))) static void shim_warning_handler(char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(shim_warning, sizeof shim_warning, fmt, ap);
    va_end(ap);
}

__attribute__((format(printf, 1, 2))) static void shim_debug_handler(char *fmt, ...) { (void)fmt; }

// Each wrapper follows the same shape: arm, call, disarm. `GUARD_BEGIN` returns -1
// from the wrapper when the handler jumped back.
#define GUARD_BEGIN                  \
    jmp_buf env;                     \
    shim_error[0] = 0;               \
    if (setjmp(env) != 0) {          \
        shim_armed = NULL;           \
        return -1;                   \
    }                                \
    shim_armed = &env;
#define GUARD_END shim_armed = NULL;

struct pci_access *pcishim_alloc(void) {
    struct pci_access *a = pci_alloc();
    if (!a) return NULL;
    a->error = shim_error_handler;
    a->warning = shim_warning_handler;
    a->debug = shim_debug_handler;
    return a;
}

int pcishim_use_dump(struct pci_access *a, const char *path) {
    GUARD_BEGIN
    a->method = PCI_ACCESS_DUMP;
    int rc = pci_set_param(a, "dump.name", (char *)path);
    GUARD_END
    if (rc != 0) {
        snprintf(shim_error, sizeof shim_error, "libpci does not know the parameter dump.name");
        return -1;
    }
    return 0;
}

int pcishim_use_sysfs(struct pci_access *a, const char *sysfs_path) {
    GUARD_BEGIN
    a->method = PCI_ACCESS_SYS_BUS_PCI;
    int rc = sysfs_path ? pci_set_param(a, "sysfs.path", (char *)sysfs_path) : 0;
    GUARD_END
    if (rc != 0) {
        snprintf(shim_error, sizeof shim_error, "libpci does not know the parameter sysfs.path");
        return -1;
    }
    return 0;
}

void pcishim_set_id_file(struct pci_access *a, const char *path) {
    char *copy = strdup(path);
    if (copy) pci_set_name_list_path(a, copy, 1);
}

int pcishim_init_scan(struct pci_access *a) {
    GUARD_BEGIN
    pci_init(a);
    pci_scan_bus(a);
    GUARD_END
    return 0;
}

int pcishim_fill(struct pci_dev *d, int flags, int *known) {
    GUARD_BEGIN
    int k = pci_fill_info(d, flags);
    GUARD_END
    *known = k;
    return 0;
}

int pcishim_read_block(struct pci_dev *d, int pos, uint8_t *buf, int len, int *ok) {
    GUARD_BEGIN
    int r = pci_read_block(d, pos, buf, len);
    GUARD_END
    *ok = r;
    return 0;
}

int pcishim_write_word(struct pci_dev *d, int pos, uint16_t value, int *ok) {
    GUARD_BEGIN
    int r = pci_write_word(d, pos, value);
    GUARD_END
    *ok = r;
    return 0;
}

int pcishim_string_property(struct pci_dev *d, uint32_t property, const char **out) {
    GUARD_BEGIN
    const char *s = pci_get_string_property(d, property);
    GUARD_END
    *out = s;
    return 0;
}

int pcishim_lookup1(struct pci_access *a, char *buf, int size, int flags, int arg1, const char **out) {
    GUARD_BEGIN
    const char *s = pci_lookup_name(a, buf, size, flags | PCI_LOOKUP_NO_NUMBERS, arg1);
    GUARD_END
    *out = s;
    return 0;
}

int pcishim_lookup2(struct pci_access *a, char *buf, int size, int flags, int arg1, int arg2, const char **out) {
    GUARD_BEGIN
    const char *s = pci_lookup_name(a, buf, size, flags | PCI_LOOKUP_NO_NUMBERS, arg1, arg2);
    GUARD_END
    *out = s;
    return 0;
}

int pcishim_lookup4(struct pci_access *a, char *buf, int size, int flags, int arg1, int arg2, int arg3, int arg4,
                    const char **out) {
    GUARD_BEGIN
    const char *s = pci_lookup_name(a, buf, size, flags | PCI_LOOKUP_NO_NUMBERS, arg1, arg2, arg3, arg4);
    GUARD_END
    *out = s;
    return 0;
}

int pcishim_cleanup(struct pci_access *a) {
    GUARD_BEGIN
    pci_cleanup(a);
    GUARD_END
    return 0;
}

const char *pcishim_last_error(void) { return shim_error; }

const char *pcishim_last_warning(void) { return shim_warning; }
