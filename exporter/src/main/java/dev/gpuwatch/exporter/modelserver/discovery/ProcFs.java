package dev.gpuwatch.exporter.modelserver.discovery;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The few things gpuwatch reads from a {@code /proc} tree. The root is configurable ({@code /host/proc} in a
 * container, a fake tree in tests). Every read tolerates a process that exits meanwhile: it returns empty.
 */
public final class ProcFs {
    private final Path root;

    public ProcFs(Path root) {
        this.root = root;
    }

    public Path root() {
        return root;
    }

    /** Every numeric entry of the root. */
    public List<Integer> pids() {
        List<Integer> pids = new ArrayList<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(root)) {
            for (Path p : dir) {
                String n = p.getFileName().toString();
                if (!n.isEmpty() && n.chars().allMatch(Character::isDigit) && n.length() < 10) {
                    pids.add(Integer.parseInt(n));
                }
            }
        } catch (IOException e) {
            return List.of();
        }
        return pids;
    }

    /** Parent pid and start time from {@code /proc/<pid>/stat}. */
    public record Stat(int ppid, long startTime) {}

    public Optional<Stat> stat(int pid) {
        Optional<String> text = read(root.resolve(pid + "/stat"));
        if (text.isEmpty()) {
            return Optional.empty();
        }
        // the command may hold spaces and parentheses: the fields start after the last ')'
        String s = text.get();
        int close = s.lastIndexOf(')');
        if (close < 0) {
            return Optional.empty();
        }
        String[] f = s.substring(close + 1).strip().split("\\s+");
        try {
            return Optional.of(new Stat(Integer.parseInt(f[1]), f.length > 19 ? Long.parseLong(f[19]) : 0));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    public Optional<String> cgroup(int pid) {
        return read(root.resolve(pid + "/cgroup"));
    }

    /** The network namespace of {@code pid} ("self" for this process), e.g. {@code net:[4026531840]}. */
    public Optional<String> netns(String pid) {
        try {
            return Optional.of(Files.readSymbolicLink(root.resolve(pid + "/ns/net")).toString());
        } catch (IOException | UnsupportedOperationException e) {
            return Optional.empty();
        }
    }

    /** Inodes of the sockets {@code pid} holds open ({@code fd/N -> socket:[inode]}). */
    public Set<Long> socketInodes(int pid) {
        Set<Long> inodes = new HashSet<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(root.resolve(pid + "/fd"))) {
            for (Path fd : dir) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[") && target.endsWith("]")) {
                        inodes.add(Long.parseLong(target.substring(8, target.length() - 1)));
                    }
                } catch (IOException | RuntimeException e) {
                    // closed meanwhile, or not a link
                }
            }
        } catch (IOException e) {
            return Set.of();
        }
        return inodes;
    }

    /** A LISTEN socket from {@code net/tcp} or {@code net/tcp6}. */
    public record Listen(InetAddress address, int port, long inode) {}

    /** The listening TCP sockets of {@code pid}'s network namespace. */
    public List<Listen> listening(int pid) {
        List<Listen> out = new ArrayList<>();
        for (String file : new String[] {"tcp", "tcp6"}) {
            for (String line : read(root.resolve(pid + "/net/" + file)).orElse("").split("\n")) {
                String[] f = line.strip().split("\\s+");
                if (f.length < 10 || !f[3].equals("0A") || !f[1].contains(":")) {
                    continue; // header, or not LISTEN
                }
                String[] addr = f[1].split(":");
                try {
                    out.add(new Listen(address(addr[0]), Integer.parseInt(addr[1], 16), Long.parseLong(f[9])));
                } catch (RuntimeException | UnknownHostException e) {
                    // a line we do not understand is skipped
                }
            }
        }
        return out;
    }

    /** Decodes the kernel's hex address: 32-bit words in host (little-endian) byte order. */
    static InetAddress address(String hex) throws UnknownHostException {
        byte[] bytes = new byte[hex.length() / 2];
        for (int word = 0; word < bytes.length / 4; word++) {
            for (int b = 0; b < 4; b++) {
                int at = word * 8 + (3 - b) * 2;
                bytes[word * 4 + b] = (byte) Integer.parseInt(hex.substring(at, at + 2), 16);
            }
        }
        return InetAddress.getByAddress(bytes);
    }

    /** Local unicast IPv4 addresses of {@code pid}'s namespace ({@code net/fib_trie}, {@code /32 host LOCAL}). */
    public List<String> localAddresses(int pid) {
        List<String> out = new ArrayList<>();
        String last = null;
        for (String line : read(root.resolve(pid + "/net/fib_trie")).orElse("").split("\n")) {
            String t = line.strip();
            if (t.startsWith("|-- ")) {
                last = t.substring(4).strip();
            } else if (t.startsWith("/32 host LOCAL") && last != null && !last.startsWith("127.") && !out.contains(last)) {
                out.add(last);
            }
        }
        return out;
    }

    private static Optional<String> read(Path p) {
        try {
            return Optional.of(Files.readString(p));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }
}
