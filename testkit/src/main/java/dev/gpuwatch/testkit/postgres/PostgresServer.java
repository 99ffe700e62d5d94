package dev.gpuwatch.testkit.postgres;

import dev.gpuwatch.testkit.process.ChildProcess;
import dev.gpuwatch.testkit.process.Command;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A real PostgreSQL server (Debian's packages) on a loopback port, in a data directory of its own made by
 * {@code initdb}, with one database and one password-authenticated user for the code under test. {@link #stop}
 * and {@link #start} again use the same directory and port, so a client configured once sees the database go
 * away and come back; {@link #close} stops it and deletes the directory.
 *
 * <p>PostgreSQL refuses to run as root, so under uid 0 every PostgreSQL program runs as {@code nobody} (through
 * {@code setpriv}) and the directory is handed to that user.
 *
 * <p>For the tests the server runs with {@code fsync=off} ({@link Durability#PROCESS_CRASH}): they kill
 * processes, never the machine, and a commit is still durable for every client once it has returned; this keeps
 * a storm of commits cheap on a shared machine. A benchmark of durable ingest asks for
 * {@link Durability#MACHINE_CRASH}, PostgreSQL's default, where a commit has reached the disk.
 */
public final class PostgresServer implements AutoCloseable {

    /** What a returned commit survives. */
    public enum Durability {
        /** a killed server process ({@code fsync=off}): the tests */
        PROCESS_CRASH,
        /** a lost machine ({@code fsync=on}, as PostgreSQL ships): what a benchmark of durable ingest measures */
        MACHINE_CRASH
    }

    /** The database and the user the code under test connects as. */
    public static final String DATABASE = "gpuwatch";
    public static final String USER = "gpuwatch";
    private static final String SUPERUSER = "postgres";
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(120);
    private static final Pattern READY = Pattern.compile("database system is ready to accept connections");
    /** What provides the programs on Debian; scripts/test installs it. */
    static final String DEBIAN_PACKAGE = "Debian's postgresql package";
    /** Under uid 0, who runs PostgreSQL; empty otherwise. */
    private static final String NOBODY_UID = idOf("-u");
    private static final String NOBODY_GID = idOf("-g");

    private final Path bin;
    private final Path root;
    private final Path dataDir;
    private Path log;
    private final int port;
    private final String password;
    private final List<String> asOwner;
    private final Durability durability;
    private ChildProcess process;
    private int starts;

    private PostgresServer(Path bin, Path root, int port, String password, List<String> asOwner,
            Durability durability) {
        this.bin = bin;
        this.root = root;
        this.dataDir = root.resolve("data");
        this.log = root.resolve("postgres-0.log");
        this.port = port;
        this.password = password;
        this.asOwner = asOwner;
        this.durability = durability;
    }

    /**
     * The directory of the installed PostgreSQL programs: the newest {@code /usr/lib/postgresql/<version>/bin}
     * (Debian's layout, not on the PATH), else the directory of an {@code initdb} on the PATH.
     */
    public static Optional<Path> binaries() {
        Path debian = Path.of("/usr/lib/postgresql");
        if (Files.isDirectory(debian)) {
            try (Stream<Path> versions = Files.list(debian)) {
                Optional<Path> newest = versions.map(v -> v.resolve("bin"))
                        .filter(b -> Files.isExecutable(b.resolve("initdb")) && Files.isExecutable(b.resolve("postgres")))
                        .max(Comparator.comparing(PostgresServer::majorVersion));
                if (newest.isPresent()) {
                    return newest;
                }
            } catch (IOException e) {
                // fall through to the PATH
            }
        }
        String path = Optional.ofNullable(System.getenv("PATH")).orElse("");
        for (String dir : path.split(java.io.File.pathSeparator)) {
            Path initdb = dir.isEmpty() ? null : Path.of(dir, "initdb");
            if (initdb != null && Files.isExecutable(initdb)) {
                try {
                    return Optional.of(initdb.toRealPath().getParent());
                } catch (IOException e) {
                    return Optional.of(initdb.getParent());
                }
            }
        }
        return Optional.empty();
    }

    private static int majorVersion(Path bin) {
        try {
            return Integer.parseInt(bin.getParent().getFileName().toString());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /**
     * Makes a cluster in a new temporary directory, starts it on a free loopback port and creates {@link #DATABASE}
     * owned by {@link #USER} with {@code password} (scram-sha-256 over TCP).
     *
     * @throws IllegalStateException when PostgreSQL is not installed, or with the end of its log when it does not
     *     start
     */
    public static PostgresServer start(String password) {
        return start(password, Durability.PROCESS_CRASH);
    }

    /** As {@link #start(String)}, with commits that survive what {@code durability} says. */
    public static PostgresServer start(String password, Durability durability) {
        Path bin = binaries().orElseThrow(() -> new IllegalStateException("initdb is neither under"
                + " /usr/lib/postgresql/*/bin nor on the PATH; install " + DEBIAN_PACKAGE + " (scripts/test does)"));
        Path root;
        try {
            root = Files.createTempDirectory("gpuwatch-postgres");
        } catch (IOException e) {
            throw new UncheckedIOException("no temporary directory for PostgreSQL", e);
        }
        List<String> asOwner = isRoot() ? handToNobody(root) : List.of();
        PostgresServer server = new PostgresServer(bin, root, freePort(), password, asOwner, durability);
        try {
            server.initdb();
            server.start();
            server.createDatabase();
            return server;
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
    }

    /** {@code jdbc:postgresql://127.0.0.1:PORT/gpuwatch}. */
    public String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + DATABASE;
    }

    public int port() {
        return port;
    }

    public String user() {
        return USER;
    }

    public String password() {
        return password;
    }

    /** The log of the server's latest start (each start has its own). */
    public synchronized Path log() {
        return log;
    }

    /** Starts the server on its data directory and port (again, after {@link #stop}); returns once it accepts connections. */
    public synchronized void start() {
        if (process != null && process.isAlive()) {
            return;
        }
        // a log of its own per start: ChildProcess empties the file it is given
        log = root.resolve("postgres-" + (++starts) + ".log");
        List<String> line = new ArrayList<>(asOwner);
        line.addAll(List.of(bin.resolve("postgres").toString(), "-D", dataDir.toString(),
                "-p", Integer.toString(port), "-k", root.toString(),
                "-c", "listen_addresses=127.0.0.1",
                "-c", "fsync=" + (durability == Durability.MACHINE_CRASH ? "on" : "off"), "-c", "max_connections=200",
                "-c", "shared_buffers=32MB", "-c", "logging_collector=off"));
        process = ChildProcess.start(Command.of("postgres", line).in(root), log);
        try {
            process.await(READY, READY_TIMEOUT);
        } catch (IllegalStateException e) {
            process.kill();
            throw e;
        }
    }

    /** Stops the server (fast shutdown: open sessions are ended), keeping its data; {@link #start} brings it back. */
    public synchronized void stop() {
        if (process == null || !process.isAlive()) {
            return;
        }
        run("pg_ctl", List.of("stop", "-D", dataDir.toString(), "-m", "fast", "-w"));
        process.stop();
    }

    /** Whether the server process runs. */
    public synchronized boolean running() {
        return process != null && process.isAlive();
    }

    /**
     * A new empty database owned by {@link #USER}, for a test that needs one of its own; its JDBC URL.
     *
     * @param name lower-case letters, digits and underscores
     */
    public String newDatabase(String name) {
        if (!name.matches("[a-z_][a-z0-9_]*")) {
            throw new IllegalArgumentException("not a plain database name: " + name);
        }
        run("psql", List.of("-h", root.toString(), "-p", Integer.toString(port), "-U", SUPERUSER, "-d", "postgres",
                "-v", "ON_ERROR_STOP=1", "-q", "-c", "CREATE DATABASE " + name + " OWNER " + USER));
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + name;
    }

    /** Runs {@code sql} as the superuser in {@link #DATABASE} with psql, for a test's own look at the data. */
    public String psql(String sql) {
        return run("psql", List.of("-h", root.toString(), "-p", Integer.toString(port), "-U", SUPERUSER, "-d",
                DATABASE, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql));
    }

    /** Stops the server and deletes its directory. */
    @Override
    public synchronized void close() {
        try {
            stop();
        } catch (RuntimeException e) {
            if (process != null) {
                process.kill();
            }
        }
        deleteTree(root);
    }

    private void initdb() {
        Path pwfile = root.resolve("superuser.pw");
        try {
            Files.writeString(pwfile, password + "\n", StandardCharsets.UTF_8);
            if (!asOwner.isEmpty()) {
                chownToNobody(pwfile);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + pwfile, e);
        }
        run("initdb", List.of("-D", dataDir.toString(), "-U", SUPERUSER, "--pwfile=" + pwfile,
                "--auth-local=trust", "--auth-host=scram-sha-256", "--encoding=UTF8", "--locale=C", "--no-sync"));
    }

    private void createDatabase() {
        String quoted = password.replace("'", "''");
        run("psql", List.of("-h", root.toString(), "-p", Integer.toString(port), "-U", SUPERUSER, "-d", "postgres",
                "-v", "ON_ERROR_STOP=1", "-q",
                "-c", "CREATE ROLE " + USER + " LOGIN PASSWORD '" + quoted + "'",
                "-c", "CREATE DATABASE " + DATABASE + " OWNER " + USER));
    }

    /** Runs one of the PostgreSQL programs as the data directory's owner; its output, or a failure with it. */
    private String run(String program, List<String> args) {
        List<String> line = new ArrayList<>(asOwner);
        line.add(bin.resolve(program).toString());
        line.addAll(args);
        ChildProcess.Finished done = ChildProcess.run(Command.of(program, line).in(root), COMMAND_TIMEOUT);
        if (done.exitCode() != 0) {
            throw new IllegalStateException(program + " exited with " + done.exitCode() + ":\n" + done.output());
        }
        return done.output();
    }

    /**
     * Whether this process runs as uid 0. A file system without the "unix" attribute view (not Linux) or an
     * unreadable /proc cannot say so, and is taken as "not root": the server then starts as this user, and
     * initdb itself refuses clearly if that user is root after all.
     */
    private static boolean isRoot() {
        try {
            return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return false;
        }
    }

    /** Hands {@code dir} to nobody; the prefix that runs a program as nobody. */
    private static List<String> handToNobody(Path dir) {
        chownToNobody(dir);
        return List.of("setpriv", "--reuid=" + NOBODY_UID, "--regid=" + NOBODY_GID, "--clear-groups", "--");
    }

    private static String idOf(String flag) {
        if (!isRoot()) {
            return "";
        }
        ChildProcess.Finished id = ChildProcess.run(Command.of("id", List.of("id", flag, "nobody")),
                Duration.ofSeconds(10));
        if (id.exitCode() != 0) {
            throw new IllegalStateException("running as root, and there is no user nobody to run PostgreSQL as: "
                    + id.output());
        }
        return id.output().strip();
    }

    private static void chownToNobody(Path path) {
        ChildProcess.Finished done = ChildProcess.run(Command.of("chown",
                List.of("chown", "-R", NOBODY_UID + ":" + NOBODY_GID, path.toString())), Duration.ofSeconds(30));
        if (done.exitCode() != 0) {
            throw new IllegalStateException("cannot hand " + path + " to nobody: " + done.output());
        }
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free loopback port", e);
        }
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    // a leftover in the temporary directory harms nobody
                }
            });
        } catch (IOException e) {
            // likewise
        }
    }
}
