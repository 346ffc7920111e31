import Busmaster

/// libpci is not thread-safe (shared name tables, method state, the error handler's
/// jump buffer): every call into it from this module holds this lock.
let libpciLock = Lock()
