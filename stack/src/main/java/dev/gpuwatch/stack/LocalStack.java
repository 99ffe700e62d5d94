package dev.gpuwatch.stack;

import dev.gpuwatch.config.ConfigException;
import dev.gpuwatch.exporter.web.ScenarioEndpoint;
import dev.gpuwatch.probe.simulated.Scenario;
import dev.gpuwatch.receiver.Receiver;
import dev.gpuwatch.receiver.config.ConfigLoader;
import dev.gpuwatch.receiver.interact.Interactions;
import dev.gpuwatch.receiver.runbook.ServedRunbooks;
import dev.gpuwatch.testkit.modelserver.SimulatedModelServer;
import dev.gpuwatch.testkit.pagerduty.LocalPagerDutyServer;
import dev.gpuwatch.testkit.postgres.PostgresServer;
import dev.gpuwatch.testkit.process.ChildProcess;
import dev.gpuwatch.testkit.process.Command;
import dev.gpuwatch.testkit.prometheus.Alertmanager;
import dev.gpuwatch.testkit.prometheus.Prometheus;
import dev.gpuwatch.testkit.prometheus.ServerOptions;
import dev.gpuwatch.testkit.slack.LocalSlackServer;
import dev.gpuwatch.web.ExternalUrl;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.SQLException;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * The whole gpuwatch chain on loopback, for the demo and the end-to-end test: local Slack and PagerDuty
 * servers, the receiver with its embedded store, the exporter on the simulated fleet (a child JVM, whose scenario
 * {@link #switchScenario} changes while it runs), Alertmanager with the shipped example routing and Prometheus
 * with the shipped rules, their runbook links rendered onto this receiver (child processes). Everything it starts is stopped by {@link #close} and, should the JVM
 * be stopped first (Ctrl-C), by a shutdown hook.
 */
public final class LocalStack implements AutoCloseable {

    /** The local PagerDuty server checks that a routing key has PagerDuty's 32 characters. */
    static final String ROUTING_KEY = "gpuwatchlocalsandboxroutingkey01";
    static final String EXAMPLE_ALERTMANAGER = "examples/alertmanager/alertmanager.yml";
    private static final String EXPORTER_MAIN = "dev.gpuwatch.exporter.ExporterMain";
    private static final String MODEL = "llama-70b";
    /**
     * The simulated GPU whose first process is shown as this JVM, the model server's process: the exporter's /proc
     * scan then finds the model server's port in this JVM's tree and attributes that GPU memory to {@value #MODEL}.
     */
    static final int MODEL_SERVER_GPU = 0;

    /** An SMTP server the receiver's email channel sends to (GreenMail in the test). */
    public record Smtp(String host, int port, String from, String to) {}

    /**
     * How to start the stack.
     *
     * @param workDir generated configs, data and logs; the stack's own, emptied at start
     * @param repoRoot the checkout whose rules/ and examples/ are used as shipped
     * @param gpuBackend {@code simulated}, or {@code auto} for the real GPUs when NVML loads
     * @param scenario the simulated fleet's scenario at start (docs/simulated-fleet.md)
     * @param faultAfter when a fault scenario's fault starts after the exporter starts, or after
     *     {@link #switchScenario} switched to one
     * @param interval Prometheus' scrape and evaluation interval
     * @param timers Alertmanager's group_wait and group_interval, short so a resolve arrives within a minute
     * @param progress one line per event while the stack starts and changes
     */
    public record Options(Path workDir, Path repoRoot, Ports ports, Binaries binaries, String gpuBackend,
            String scenario, Duration faultAfter, Optional<Smtp> smtp, Duration interval, Duration groupWait,
            Duration groupInterval, Consumer<String> progress) {

        public static Options of(Path workDir, Path repoRoot, Ports ports, Binaries binaries) {
            return new Options(workDir, repoRoot, ports, binaries, "simulated", "steady", Duration.ofSeconds(30),
                    Optional.empty(), Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(10),
                    line -> { });
        }

        public Options withGpus(String backend, String scenario, Duration faultAfter) {
            return new Options(workDir, repoRoot, ports, binaries, backend, scenario, faultAfter, smtp, interval,
                    groupWait, groupInterval, progress);
        }

        public Options withSmtp(Smtp smtp) {
            return new Options(workDir, repoRoot, ports, binaries, gpuBackend, scenario, faultAfter,
                    Optional.of(smtp), interval, groupWait, groupInterval, progress);
        }

        public Options withProgress(Consumer<String> progress) {
            return new Options(workDir, repoRoot, ports, binaries, gpuBackend, scenario, faultAfter, smtp, interval,
                    groupWait, groupInterval, progress);
        }
    }

    /** Where to look: every part's web address. */
    public record Urls(String prometheus, String alertmanager, String exporter, String receiver, String slack,
            String pagerDuty, String modelServer) {}

    private final Options options;
    private final Urls urls;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Thread shutdownHook;
    private final List<AutoCloseable> started = new ArrayList<>();
    private LocalSlackServer slack;
    private LocalPagerDutyServer pagerDuty;
    private final List<ChildProcess> children = new ArrayList<>();
    /** 1: the receiver on its SQLite file; more: that many replicas on one PostgreSQL ({@link #start(Options, int)}). */
    private int receiverReplicas = 1;

    private LocalStack(Options options) {
        this.options = options;
        Ports p = options.ports();
        this.urls = new Urls("http://127.0.0.1:" + p.prometheus(), "http://127.0.0.1:" + p.alertmanager(),
                "http://127.0.0.1:" + p.exporter(), "http://127.0.0.1:" + p.receiver(),
                "http://127.0.0.1:" + p.slack(), "http://127.0.0.1:" + p.pagerDuty(),
                "http://127.0.0.1:" + p.modelServer());
        this.shutdownHook = new Thread(this::stopAll, "gpuwatch-stack-shutdown");
    }

    /** Starts every part and waits until each is ready; on failure stops what it started and says why. */
    public static LocalStack start(Options options) throws StackException {
        return start(options, 1);
    }

    /**
     * As {@link #start(Options)} with {@code receiverReplicas} receivers: 2 or more run on one PostgreSQL (Debian's,
     * started with the testkit's {@link PostgresServer}) on consecutive ports from the receiver's, and
     * Alertmanager posts every notification to each of them, as the peers of an Alertmanager cluster would.
     */
    public static LocalStack start(Options options, int receiverReplicas) throws StackException {
        if (receiverReplicas < 1) {
            throw new StackException("--receiver.replicas must be 1 or more, not " + receiverReplicas);
        }
        LocalStack stack = new LocalStack(options);
        stack.receiverReplicas = receiverReplicas;
        Runtime.getRuntime().addShutdownHook(stack.shutdownHook);
        try {
            stack.startAll();
            return stack;
        } catch (StackException | RuntimeException e) {
            stack.close();
            throw e;
        }
    }

    /** The web address of every receiver replica; the first is {@link Urls#receiver()}. */
    public List<String> receiverUrls() {
        return receiverPorts().stream().map(port -> "http://127.0.0.1:" + port).toList();
    }

    private List<Integer> receiverPorts() {
        int first = options.ports().receiver();
        return IntStream.range(first, first + receiverReplicas).boxed().toList();
    }

    public Urls urls() {
        return urls;
    }

    public LocalSlackServer slack() {
        return slack;
    }

    public LocalPagerDutyServer pagerDuty() {
        return pagerDuty;
    }

    public Path workDir() {
        return options.workDir();
    }

    /**
     * Puts the running exporter's simulated fleet into {@code scenario} through its
     * {@code POST /-/simulated/scenario}: no restart, so Prometheus misses no scrape, the GPUs and their counters
     * stay the same series, and a fault scenario's fault starts the exporter's fault-after
     * ({@link Options#faultAfter()}) after the switch. {@code steady} clears a fault (a lost GPU is back).
     *
     * @throws StackException naming the valid scenarios for an unknown one, or saying why the exporter refused
     *     (e.g. it reads real GPUs: {@code --gpu.backend auto} found NVML)
     */
    public void switchScenario(String scenario) throws StackException {
        String url = urls.exporter() + ScenarioEndpoint.PATH;
        Http.Answer answer;
        try {
            answer = Http.postForm(url, "scenario=" + URLEncoder.encode(scenario, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new StackException("cannot switch the simulated fleet to " + scenario + ": " + url + ": " + e.getMessage());
        }
        if (answer.status() != 200) {
            throw new StackException("the exporter refused to switch to " + scenario + " (HTTP " + answer.status()
                    + "): " + answer.body().strip());
        }
        progress("switched the simulated fleet to " + answer.body().strip() + " (POST " + url + "; no restart)");
    }

    private void startAll() throws StackException {
        options.ports().checkFree();
        Path work = options.workDir().toAbsolutePath();
        prepareWorkDir(work);

        slack = LocalSlackServer.start(options.ports().slack());
        started.add(slack);
        pagerDuty = LocalPagerDutyServer.start(options.ports().pagerDuty());
        started.add(pagerDuty);
        progress("local Slack ready: " + urls.slack() + "/ (channel #" + LocalSlackServer.DEFAULT_CHANNEL + ")");
        progress("local PagerDuty ready: " + urls.pagerDuty() + "/");

        startReceivers(work);
        startModelServer();
        startExporter();
        startAlertmanager(work);
        startPrometheus(work);
    }

    /**
     * The receiver, or with {@code --receiver.replicas} above 1 its replicas on one PostgreSQL: one generated
     * receiver.yml (with a {@code storage.postgres} section for replicas), each in this JVM on its own port through
     * the receiver's programmatic API (one JVM fewer on a small machine), reading the file its jar would, as
     * separate processes share the database in production.
     */
    private void startReceivers(Path work) throws StackException {
        Path secrets = work.resolve("secrets");
        String storage = receiverReplicas > 1 ? startPostgres(secrets) : "";
        Path token = write(secrets.resolve("slack-bot-token"), slack.token());
        Path routingKey = write(secrets.resolve("pagerduty-routing-key"), ROUTING_KEY);
        // made per start, as a Slack app's is per app: the receiver verifies the local Slack's presses with it
        String signingSecret = HexFormat.of().formatHex(randomBytes(16));
        Path signingSecretFile = write(secrets.resolve("slack-signing-secret"), signingSecret);
        Path configFile = write(work.resolve("receiver.yml"), storage + ReceiverConfigFile.render(slack.apiUrl(),
                LocalSlackServer.DEFAULT_CHANNEL, token, pagerDuty.enqueueUrl(), routingKey, options.smtp(),
                work.resolve("logs/receiver-deliveries.log"), signingSecretFile, urls.alertmanager(),
                urls.prometheus()));
        for (int i = 0; i < receiverReplicas; i++) {
            String url = receiverUrls().get(i);
            String name = receiverReplicas > 1 ? "receiver replica " + (i + 1) : "receiver";
            Path db = work.resolve(receiverReplicas > 1 ? "receiver-" + (i + 1) + ".db" : "receiver.db");
            try {
                Receiver.Options opts = Receiver.Options.of(db, "127.0.0.1", receiverPorts().get(i))
                        .withExternalUrl(ExternalUrl.parse(url).orElseThrow());
                started.add(Receiver.start(ConfigLoader.load(configFile), opts));
            } catch (ConfigException e) {
                throw new StackException("receiver: invalid configuration: " + e.getMessage());
            } catch (SQLException e) {
                throw new StackException(name + ": cannot open its store: " + e.getMessage());
            }
            await(name, url + "/readyz", Duration.ofSeconds(30), () -> true);
            progress(name + " ready: " + url + " (config " + configFile + ", store "
                    + (storage.isEmpty() ? db : "PostgreSQL") + ")");
        }
        // the page's buttons press the first replica, as Slack's one request URL would reach one of them
        slack.interactivity(urls.receiver() + Interactions.PATH, signingSecret);
    }

    private static byte[] randomBytes(int n) {
        byte[] bytes = new byte[n];
        new SecureRandom().nextBytes(bytes);
        return bytes;
    }

    /** PostgreSQL for the replicas, once their ports are known free; the receiver.yml section that names it. */
    private String startPostgres(Path secrets) throws StackException {
        for (int port : receiverPorts().subList(1, receiverReplicas)) {
            try (ServerSocket socket = new ServerSocket()) {
                socket.setReuseAddress(true);
                socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            } catch (IOException e) {
                throw new StackException("port " + port + " for receiver replica " + (port - options.ports().receiver()
                        + 1) + " is already in use; replicas take consecutive ports from --port.receiver");
            }
        }
        if (PostgresServer.binaries().isEmpty()) {
            throw new StackException("--receiver.replicas=" + receiverReplicas + " needs PostgreSQL (initdb, postgres):"
                    + " apt-get install -y postgresql");
        }
        String password = HexFormat.of().formatHex(randomBytes(16));
        progress("starting PostgreSQL for " + receiverReplicas + " receiver replicas...");
        PostgresServer pg = launch(() -> PostgresServer.start(password));
        started.add(pg);
        progress("PostgreSQL ready: " + pg.jdbcUrl() + " (user " + pg.user() + ", data in a temporary directory)");
        Path passwordFile = write(secrets.resolve("postgres-password"), password);
        return """
                storage:
                  postgres:
                    url: '%s'
                    user: '%s'
                    password_file: '%s'
                    pool_size: 4
                """.formatted(pg.jdbcUrl(), pg.user(), passwordFile);
    }

    /**
     * A vLLM-shaped model server on GPU 0 of its own copy of the fleet. It runs steady: the fault scenarios hit
     * the last GPU, and its load is there to fill the model-server series, not to alert.
     */
    private void startModelServer() throws StackException {
        SimulatedModelServer server;
        try {
            server = SimulatedModelServer.start(SimulatedModelServer.Kind.VLLM,
                    new InetSocketAddress("127.0.0.1", options.ports().modelServer()), List.of(MODEL),
                    Scenario.STEADY, InstantSource.system());
        } catch (IOException e) {
            throw new StackException("model server: cannot listen on " + urls.modelServer() + ": " + e.getMessage());
        }
        started.add(server);
        await("model server", urls.modelServer() + "/metrics", Duration.ofSeconds(10), () -> true);
        progress("simulated vLLM model server ready: " + urls.modelServer() + "/metrics (model " + MODEL + ")");
    }

    /** The exporter in a child JVM: its own log file, and Ctrl-C or a crash of one cannot take down the other. */
    private void startExporter() throws StackException {
        String scenario = options.scenario();
        Duration faultAfter = options.faultAfter();
        Path work = options.workDir().toAbsolutePath();
        // the model server as a static target; discovery would scan this machine's processes for nothing. The
        // /proc scan that joins GPU processes with the target still runs, every 5 s so the join shows soon.
        Path config = write(work.resolve("exporter.yml"), """
                # Generated by gpuwatch-stack; edits are overwritten on the next start.
                model_servers:
                  - name: %s
                    type: vllm
                    url: %s
                model_server_discovery:
                  enabled: false
                  interval: 5s
                """.formatted(MODEL, urls.modelServer()));
        // The model server runs in this JVM: the simulated fleet shows it as a GPU process, so
        // inference_model_gpu_memory_bytes{model="llama-70b"} is real. Ignored when auto finds real GPUs.
        long self = ProcessHandle.current().pid();
        Command command = Command.java("exporter", List.of(
                // small and quick to start: it serves a few hundred series
                "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
                // JCuda extracts its natives into java.io.tmpdir: a private one cannot clash with other users
                "-Djava.io.tmpdir=" + work.resolve("exporter-tmp")),
                EXPORTER_MAIN, List.of(
                "--config.file=" + config,
                "--web.listen-address=127.0.0.1:" + options.ports().exporter(),
                "--gpu.backend=" + options.gpuBackend(),
                "--gpu.simulated.scenario=" + scenario,
                "--gpu.simulated.fault-after=" + faultAfter.toSeconds() + "s",
                "--gpu.simulated.model-server-pid=" + self + "@" + MODEL_SERVER_GPU,
                "--gpu.sample-interval=1s")).in(work);
        createDirectories(work.resolve("exporter-tmp"));
        progress("starting the exporter (GPU backend " + options.gpuBackend() + ", simulated scenario " + scenario
                + ", fault after " + faultAfter.toSeconds() + "s, the model server's process " + self
                + " shown on simulated GPU " + MODEL_SERVER_GPU + ")...");
        ChildProcess child = launch(() -> ChildProcess.start(command, work.resolve("logs/exporter.log")));
        children.add(child);
        await("exporter", urls.exporter() + "/-/ready", Duration.ofSeconds(120), child::isAlive);
        progress("exporter ready: " + urls.exporter() + "/metrics (pid " + child.pid() + ")");
    }

    private void startAlertmanager(Path work) throws StackException {
        Path example = options.repoRoot().resolve(EXAMPLE_ALERTMANAGER);
        if (!Files.isRegularFile(example)) {
            throw new StackException("no " + EXAMPLE_ALERTMANAGER + " in " + options.repoRoot()
                    + ": pass the checkout's root");
        }
        String source = example.toString();
        String yaml = read(example);
        AlertmanagerConfig.Rendered rendered = AlertmanagerConfig.render(yaml, source, receiverPorts(),
                new AlertmanagerConfig.Timers(options.groupWait(), options.groupInterval()));
        Path configFile = write(work.resolve("alertmanager.yml"), "# Generated by gpuwatch-stack from " + source
                + "\n# changed: " + String.join("; ", rendered.changes()) + "\n" + rendered.yaml());
        progress("starting Alertmanager with " + source + "...");
        Alertmanager alertmanager = launch(() -> Alertmanager.start(ServerOptions.of(configFile,
                        work.resolve("alertmanager-data"), work.resolve("logs/alertmanager.log"))
                .withPort(options.ports().alertmanager())
                .withBinary(options.binaries().alertmanager())
                .withFlags(List.of("--web.external-url=" + urls.alertmanager()))));
        children.add(alertmanager.process());
        progress("Alertmanager ready: " + urls.alertmanager() + " (config " + configFile + ")");
    }

    private void startPrometheus(Path work) throws StackException {
        Path rules = options.repoRoot().resolve("rules");
        if (!Files.isDirectory(rules)) {
            throw new StackException("no rules/ directory in " + options.repoRoot() + ": pass the checkout's root");
        }
        // the shipped rules with their runbook links on this receiver, so the links in the demo's messages open
        Path rendered = work.resolve("rules");
        String runbookBase = urls.receiver() + ServedRunbooks.PATH;
        try {
            RenderRules.renderAll(rules, runbookBase, rendered);
        } catch (UncheckedIOException e) {
            throw new StackException(e.getMessage());
        }
        Path configFile = write(work.resolve("prometheus.yml"),
                PrometheusConfig.render(rendered, options.ports(), options.interval()));
        progress("starting Prometheus with the rules in " + rules + " (runbook links on " + runbookBase + ", in "
                + rendered + ")...");
        Prometheus prometheus = launch(() -> Prometheus.start(ServerOptions.of(configFile,
                        work.resolve("prometheus-data"), work.resolve("logs/prometheus.log"))
                .withPort(options.ports().prometheus())
                .withBinary(options.binaries().prometheus())
                .withFlags(List.of("--storage.tsdb.retention.time=1d", "--web.external-url=" + urls.prometheus()))));
        ChildProcess child = prometheus.process();
        children.add(child);
        // A rule file that fails to load only shows in Prometheus' log: check the rules really are there.
        await("prometheus", urls.prometheus() + "/api/v1/rules", Duration.ofSeconds(30), child::isAlive,
                () -> Http.get(urls.prometheus() + "/api/v1/rules").map(b -> b.contains("\"alerting\"")).orElse(false));
        progress("Prometheus ready: " + urls.prometheus() + " (config " + configFile + ", rules loaded)");
    }

    /**
     * Starts a child process through the testkit's launchers, whose failures (it cannot start, it exited, it is
     * not ready in time) are unchecked and carry the end of its log, as the stack's own error.
     */
    private static <T> T launch(Supplier<T> start) throws StackException {
        try {
            return start.get();
        } catch (IllegalStateException | UncheckedIOException e) {
            throw new StackException(e.getMessage());
        }
    }

    /**
     * Waits until GET {@code url} answers 2xx and {@code extra} holds, failing early when {@code running} says
     * the part has exited.
     */
    private void await(String name, String url, Duration limit, BooleanSupplier running) throws StackException {
        await(name, url, limit, running, () -> true);
    }

    private void await(String name, String url, Duration limit, BooleanSupplier running, BooleanSupplier extra)
            throws StackException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (true) {
            if (Http.get(url).isPresent() && extra.getAsBoolean()) {
                return;
            }
            if (!running.getAsBoolean()) {
                throw new StackException(name + " exited before it was ready; its log:\n" + logTail(name));
            }
            if (System.nanoTime() > deadline) {
                throw new StackException(name + " not ready at " + url + " after " + limit.toSeconds()
                        + "s; its log:\n" + logTail(name));
            }
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new StackException("interrupted while waiting for " + name);
            }
        }
    }

    private String logTail(String name) {
        return children.stream().filter(c -> name.startsWith(c.name())).findFirst()
                .map(c -> c.tail(30)).orElse("(runs in this JVM: see its output above)");
    }

    /**
     * What every part knows about the alerts, for a test failure: Prometheus' and Alertmanager's alerts, the
     * receiver's counters and dead letters, what the local Slack and PagerDuty received, and the children's logs.
     */
    public String dump() {
        StringBuilder out = new StringBuilder();
        section(out, "Prometheus " + urls.prometheus() + "/api/v1/alerts", Http.describe(urls.prometheus() + "/api/v1/alerts"));
        section(out, "Alertmanager " + urls.alertmanager() + "/api/v2/alerts", Http.describe(urls.alertmanager() + "/api/v2/alerts"));
        section(out, "receiver metrics (notifications and deliveries)", Http.get(urls.receiver() + "/metrics")
                .map(m -> String.join("\n", m.lines().filter(l -> l.startsWith("gpuwatch_receiver_notifications")
                        || l.startsWith("gpuwatch_receiver_deliveries")).toList()))
                .orElse("unreachable"));
        section(out, "receiver dead letters", Http.describe(urls.receiver() + "/api/v1/dead-letters"));
        section(out, "receiver delivery log", tail(options.workDir().resolve("logs/receiver-deliveries.log"), 40));
        section(out, "local Slack " + urls.slack() + "/", Http.describe(urls.slack() + "/"));
        section(out, "local PagerDuty " + urls.pagerDuty() + "/", Http.describe(urls.pagerDuty() + "/"));
        for (ChildProcess c : List.copyOf(children)) {
            section(out, c + " log " + c.log(), c.tail(40));
        }
        return out.toString();
    }

    private static void section(StringBuilder out, String title, String body) {
        out.append("\n===== ").append(title).append(" =====\n").append(body).append('\n');
    }

    private static String tail(Path file, int lines) {
        try {
            List<String> all = Files.readAllLines(file, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(none: " + e.getMessage() + ")";
        }
    }

    /** Stops every part, children first so nothing scrapes or sends into a closed server. */
    @Override
    public void close() {
        stopAll();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // already shutting down: the hook is what called us or will find everything stopped
        }
    }

    private void stopAll() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        List<ChildProcess> running;
        synchronized (this) {
            running = List.copyOf(children);
        }
        progress("stopping " + String.join(", ", running.reversed().stream().map(ChildProcess::toString).toList())
                + " and the receiver, local Slack and PagerDuty");
        // Prometheus first, then Alertmanager, then the exporter: the reverse of the order they started
        for (ChildProcess c : running.reversed()) {
            c.stop();
        }
        for (AutoCloseable c : started.reversed()) {
            try {
                c.close();
            } catch (Exception e) {
                options.progress().accept("stopping " + c.getClass().getSimpleName() + " failed: " + e.getMessage());
            }
        }
    }

    private void progress(String line) {
        options.progress().accept(line);
    }

    /** The work directory is the stack's own: last run's data would replay old alerts, so it starts empty. */
    private static void prepareWorkDir(Path work) throws StackException {
        try {
            if (Files.isDirectory(work)) {
                for (String owned : List.of("prometheus-data", "alertmanager-data", "exporter-tmp", "logs", "secrets",
                        "rules")) {
                    deleteTree(work.resolve(owned));
                }
                for (String file : List.of("receiver.db", "receiver.db-wal", "receiver.db-shm")) {
                    Files.deleteIfExists(work.resolve(file));
                }
            }
            Files.createDirectories(work.resolve("logs"));
        } catch (IOException | UncheckedIOException e) {
            throw new StackException("cannot prepare the work directory " + work + ": " + e.getMessage());
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    private static Path write(Path file, String text) throws StackException {
        try {
            Files.createDirectories(file.getParent());
            return Files.writeString(file, text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new StackException("cannot write " + file + ": " + e.getMessage());
        }
    }

    private static void createDirectories(Path dir) throws StackException {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new StackException("cannot create " + dir + ": " + e.getMessage());
        }
    }

    private static String read(Path file) throws StackException {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new StackException("cannot read " + file + ": " + e.getMessage());
        }
    }
}
