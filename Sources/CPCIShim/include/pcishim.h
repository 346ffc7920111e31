// CPCIShim: a thin, recovering C layer over libpci for Swift.
//
// libpci reports fatal errors through `pci_access->error`, whose default
// implementation prints a message and calls exit(1). Every function here arms a
// thread-local setjmp buffer, makes exactly one libpci call and disarms it again;
// the error handler installed by `pcishim_alloc` longjmps back instead of exiting.
// No Swift frame ever lies between the setjmp and the libpci call, so no Swift
// cleanup is skipped. A function that returns -1 leaves the message in
// `pcishim_last_error()`; after such a failure the pci_access must be cleaned up
// and replaced (libpci's internal state may be half-updated).
//
// The variadic `pci_lookup_name` is wrapped once per argument count, because Swift
// cannot call C variadic functions.
//
// libpci is not thread-safe: callers serialise all use of one process's libpci.
#ifndef BUSMASTER_PCISHIM_H
#define BUSMASTER_PCISHIM_H

#include <pci/pci.h>
#include <stdint.h>

/// Allocates a pci_access with recovering error, warning and debug handlers
/// installed (before any method initialisation). Returns NULL when out of memory.
struct pci_access *pcishim_alloc(void);

/// Selects the `dump` method reading the lspci-format file at `path`.
/// Returns 0, or -1 with a message.
int pcishim_use_dump(struct pci_access *a, const char *path);

/// Selects the `linux-sysfs` method; `sysfs_path` (the directory holding
/// `devices/`, e.g. "/sys/bus/pci") may be NULL for the default.
/// Returns 0, or -1 with a message.
int pcishim_use_sysfs(struct pci_access *a, const char *sysfs_path);

/// Sets the pci.ids file used for name lookups (the string is copied).
void pcishim_set_id_file(struct pci_access *a, const char *path);

/// Runs pci_init and pci_scan_bus. Returns 0, or -1 with a message.
int pcishim_init_scan(struct pci_access *a);

/// Runs pci_fill_info(d, flags); stores the known-fields mask in `*known`.
/// Returns 0, or -1 with a message.
int pcishim_fill(struct pci_dev *d, int flags, int *known);

/// Reads `len` config bytes at `pos` into `buf`; `*ok` is libpci's result
/// (1 = all bytes read, 0 = not available). Returns 0, or -1 with a message.
int pcishim_read_block(struct pci_dev *d, int pos, uint8_t *buf, int len, int *ok);

/// Writes a 16-bit config word; `*ok` is libpci's result. Returns 0, or -1 with a
/// message (for example "Writing to dump files is not supported.").
int pcishim_write_word(struct pci_dev *d, int pos, uint16_t value, int *ok);

/// Fetches a string property (PCI_FILL_DRIVER, PCI_FILL_IOMMU_GROUP, ...);
/// `*out` is NULL when the property is unknown. Returns 0, or -1 with a message.
int pcishim_string_property(struct pci_dev *d, uint32_t property, const char **out);

/// Name lookup with one ID argument (PCI_LOOKUP_VENDOR: vendor; PCI_LOOKUP_CLASS: class).
/// `*out` is NULL when the database has no name (PCI_LOOKUP_NO_NUMBERS is added).
/// Returns 0, or -1 with a message.
int pcishim_lookup1(struct pci_access *a, char *buf, int size, int flags, int arg1, const char **out);

/// Name lookup with two ID arguments (PCI_LOOKUP_DEVICE: vendor, device;
/// PCI_LOOKUP_PROGIF: class, prog-if).
int pcishim_lookup2(struct pci_access *a, char *buf, int size, int flags, int arg1, int arg2, const char **out);

/// Name lookup with four ID arguments (PCI_LOOKUP_SUBSYSTEM | PCI_LOOKUP_DEVICE:
/// vendor, device, subsystem vendor, subsystem device).
int pcishim_lookup4(struct pci_access *a, char *buf, int size, int flags, int arg1, int arg2, int arg3, int arg4,
                    const char **out);

/// Releases a pci_access (also one poisoned by a recovered error). Returns 0, or -1.
int pcishim_cleanup(struct pci_access *a);

/// The message of the last recovered libpci error on this thread ("" if none).
const char *pcishim_last_error(void);

/// The last warning libpci printed on this thread ("" if none). Warnings never abort.
const char *pcishim_last_warning(void);

#endif
