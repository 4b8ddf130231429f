#if canImport(Glibc)
import Glibc
#endif
import CLinux
import LinuxSystem

/// Relays a container's pty to ocirun's own stdin/stdout, for `run`/`exec` with a terminal in
/// the foreground and no --console-socket (the socket is then a socketpair of our own).
enum TerminalRelay {
    static func writeAll(_ fd: Int32, _ data: [UInt8], _ n: Int) {
        data.withUnsafeBufferPointer { b in
            var off = 0
            while off < n {
                let w = write(fd, b.baseAddress! + off, n - off)
                if w < 0 && errno == EINTR { continue }
                if w <= 0 { return }
                off += w
            }
        }
    }

    static func relay(consoleSocket: Int32, child: pid_t) throws -> Int32 {
        var buf = [CChar](repeating: 0, count: 256)
        var master: Int32 = -1
        _ = ocirun_recv_fd(consoleSocket, &buf, buf.count, &master)
        close(consoleSocket)
        guard master >= 0 else {
            return WaitStatus.shellStatus(try waitForChild(child))
        }
        // Our terminal in raw mode while relaying; the size follows ours.
        var saved = termios()
        let isTTY = isatty(0) == 1
        if isTTY {
            tcgetattr(0, &saved)
            var raw = saved
            cfmakeraw(&raw)
            tcsetattr(0, TCSANOW, &raw)
            var rows: UInt16 = 0, cols: UInt16 = 0
            if ocirun_get_winsize(0, &rows, &cols) == 0 { _ = ocirun_set_winsize(master, rows, cols) }
        }
        defer { if isTTY { tcsetattr(0, TCSANOW, &saved) } }
        var fds = [pollfd(fd: 0, events: Int16(POLLIN), revents: 0), pollfd(fd: master, events: Int16(POLLIN), revents: 0)]
        var data = [UInt8](repeating: 0, count: 8192)
        var stdinOpen = true
        loop: while true {
            fds[0].fd = stdinOpen ? 0 : -1
            let r = poll(&fds, 2, 100)
            if r < 0 && errno != EINTR { break }
            if fds[1].revents & Int16(POLLIN) != 0 {
                let n = read(master, &data, data.count)
                if n <= 0 { break loop }
                writeAll(1, data, n)
            } else if fds[1].revents & Int16(POLLHUP | POLLERR) != 0 {
                break
            }
            if stdinOpen && fds[0].revents & Int16(POLLIN | POLLHUP) != 0 {
                let n = read(0, &data, data.count)
                if n <= 0 { stdinOpen = false } else { writeAll(master, data, n) }
            }
            var st: Int32 = 0
            if waitpid(child, &st, WNOHANG) == child {
                // Drain what is left, then report.
                while true { let n = read(master, &data, data.count); if n <= 0 { break }; writeAll(1, data, n) }
                close(master)
                return WaitStatus.shellStatus(st)
            }
        }
        close(master)
        return WaitStatus.shellStatus(try waitForChild(child))
    }
}
