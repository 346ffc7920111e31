// Intentionally empty: the shims are header-only static inline functions.
#include "busmaster_support.h"
