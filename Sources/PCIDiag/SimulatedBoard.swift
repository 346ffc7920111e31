import BusmasterSimulation
import EduModel

/// The built-in simulated board behind `--simulate`.
enum SimulatedBoard {
    /// A board with QEMU's edu at 00:01.0, running on a device thread.
    static func make() -> SimulatedPlatform {
        let board = SimulatedPlatform(mode: .threaded)
        board.plug(EduModel())
        return board
    }
}
