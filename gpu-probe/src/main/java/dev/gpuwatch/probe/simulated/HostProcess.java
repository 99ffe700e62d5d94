package dev.gpuwatch.probe.simulated;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A real process of this host that the simulated fleet shows as a GPU process: it takes the place of the first
 * workload process of GPU {@code gpu} (that process's memory curve, only the pid and the command change), so the
 * exporter's join of GPU processes with model-server process trees in /proc finds something real.
 *
 * @param pid a process id on this host, {@code > 0}
 * @param gpu the index of the simulated GPU it is shown on, {@code >= 0}
 */
public record HostProcess(int pid, int gpu) {

    /** What {@link #parse} accepts, for error messages. */
    public static final String EXPECTED = "expected PID or PID@GPU (a process id, optionally @ a GPU index), e.g. 4242@0";

    public HostProcess {
        if (pid <= 0) {
            throw new IllegalArgumentException("pid must be positive, was " + pid);
        }
        if (gpu < 0) {
            throw new IllegalArgumentException("gpu must not be negative, was " + gpu);
        }
    }

    /** {@code PID} (on GPU 0) or {@code PID@GPU}; empty for anything else. */
    public static Optional<HostProcess> parse(String text) {
        String s = text.strip();
        int at = s.indexOf('@');
        Optional<Integer> pid = number(at < 0 ? s : s.substring(0, at));
        Optional<Integer> gpu = at < 0 ? Optional.of(0) : number(s.substring(at + 1));
        if (pid.isEmpty() || gpu.isEmpty() || pid.get() <= 0) {
            return Optional.empty();
        }
        return Optional.of(new HostProcess(pid.get(), gpu.get()));
    }

    /** The flag's own spelling, {@code PID@GPU}. */
    @Override
    public String toString() {
        return pid + "@" + gpu;
    }

    /**
     * The process's name from {@code /proc/<pid>/comm}, read once when a fleet opens; empty when it cannot be
     * read (no such process, no /proc), and the simulated command name stays.
     */
    Optional<String> command(Path procRoot) {
        try {
            String comm = Files.readString(procRoot.resolve(Integer.toString(pid)).resolve("comm"),
                    StandardCharsets.UTF_8).strip();
            return comm.isEmpty() ? Optional.empty() : Optional.of(comm);
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static Optional<Integer> number(String s) {
        // digits only: no sign, no spaces inside, no "0x"
        if (s.isEmpty() || s.length() > 10 || !s.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return Optional.empty();
        }
        long v = Long.parseLong(s);
        return v > Integer.MAX_VALUE ? Optional.empty() : Optional.of((int) v);
    }
}
