#include <pci/pci.h>
