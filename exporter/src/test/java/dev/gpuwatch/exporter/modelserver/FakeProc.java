package dev.gpuwatch.exporter.modelserver;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Builds a /proc tree in a temporary folder: stat, cgroup, socket fds, net/tcp, network namespaces. */
public final class FakeProc {
    private static final String TCP_HEADER =
            "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";
    private final Path root;

    public FakeProc(Path root) {
        this.root = root;
    }

    public Path root() {
        return root;
    }

    /** A process; its command is "python3 (x)" to exercise the parenthesis rule. */
    public FakeProc process(int pid, int ppid, String cgroup) {
        write(pid + "/stat", pid + " (python3 (x)) S " + ppid + " 1 1 0 -1 4194560 0 0 0 0 10 5 0 0 20 0 12 0 "
                + (1000 + pid) + " 0 0\n");
        write(pid + "/cgroup", cgroup + "\n");
        mkdirs(pid + "/fd");
        return this;
    }

    public FakeProc socket(int pid, int fd, long inode) {
        try {
            Files.createSymbolicLink(root.resolve(pid + "/fd/" + fd), Path.of("socket:[" + inode + "]"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    /** A LISTEN line in {@code pid}'s net/tcp (IPv4, {@code hexAddress} as the kernel writes it) or net/tcp6. */
    public FakeProc listen(int pid, String hexAddress, int port, long inode) {
        String file = pid + "/net/" + (hexAddress.length() > 8 ? "tcp6" : "tcp");
        if (!Files.exists(root.resolve(file))) {
            write(file, TCP_HEADER);
        }
        append(file, String.format("   0: %s:%04X %s:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 %d 1 "
                + "0000000000000000 100 0 0 10 0%n", hexAddress, port, "0".repeat(hexAddress.length()), inode));
        return this;
    }

    public FakeProc netns(String pid, String ns) {
        mkdirs(pid + "/ns");
        try {
            Files.createSymbolicLink(root.resolve(pid + "/ns/net"), Path.of(ns));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    public FakeProc file(String relative, String content) {
        write(relative, content);
        return this;
    }

    private void mkdirs(String relative) {
        try {
            Files.createDirectories(root.resolve(relative));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void write(String relative, String content) {
        try {
            Files.createDirectories(root.resolve(relative).getParent());
            Files.writeString(root.resolve(relative), content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void append(String relative, String content) {
        try {
            Files.writeString(root.resolve(relative), content, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
