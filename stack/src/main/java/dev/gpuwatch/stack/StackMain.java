package dev.gpuwatch.stack;

import dev.gpuwatch.logging.LogLevel;
import dev.gpuwatch.logging.Logfmt;
import dev.gpuwatch.probe.simulated.Scenario;
import dev.gpuwatch.testkit.slack.LocalSlackServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.StreamHandler;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code java -jar stack/target/gpuwatch-stack.jar}: the demo. Starts the whole chain on this machine with the
 * simulated fleet steady, prints where to look, triggers the scenario through the running exporter's
 * {@code POST /-/simulated/scenario}, prints the enriched alert as soon as the local Slack has it, clears the fault
 * the same way (back to steady) so the message resolves in place, and runs until Ctrl-C.
 */
@Command(name = "gpuwatch-stack", mixinStandardHelpOptions = true, version = "gpuwatch-stack 0.1.0",
        sortOptions = false, usageHelpWidth = 110,
        description = "Runs the whole gpuwatch chain on loopback: exporter on a simulated GPU fleet (or the real GPUs),"
                + " Prometheus with the shipped rules, Alertmanager with the shipped routing, the receiver with its"
                + " store, and local Slack and PagerDuty servers that show what was delivered. Ctrl-C stops it all.")
public final class StackMain implements Callable<Integer> {

    @Option(names = "--scenario", defaultValue = "xid79-gpu-lost", paramLabel = "NAME",
            description = "Simulated fault to trigger (docs/simulated-fleet.md), e.g. xid79-gpu-lost,"
                    + " thermal-throttling; steady for none (default: ${DEFAULT-VALUE}).")
    String scenario;

    @Option(names = "--fault-after", defaultValue = "15s", paramLabel = "DURATION",
            description = "When the fault starts after the scenario is triggered, once the stack is up"
                    + " (default: ${DEFAULT-VALUE}).")
    String faultAfter;

    @Option(names = "--resolve-after", defaultValue = "45s", paramLabel = "DURATION",
            description = "How long after the alert reaches Slack the fault is cleared, so the message resolves in"
                    + " place; 0s to leave it firing (default: ${DEFAULT-VALUE}).")
    String resolveAfter;

    @Option(names = "--gpu.backend", defaultValue = "simulated", paramLabel = "simulated|auto",
            description = "simulated, or auto: the real GPUs when NVML loads, else simulated (default: ${DEFAULT-VALUE}).")
    String backend;

    @Option(names = "--work-dir", paramLabel = "DIR",
            description = "Generated configs, data and logs; emptied at start (default: <tmp>/gpuwatch-stack).")
    Optional<Path> workDir;

    @Option(names = "--repo-root", paramLabel = "DIR",
            description = "The gpuwatch checkout whose rules/ and examples/ are used (default: found from the"
                    + " current directory upwards).")
    Optional<Path> repoRoot;

    @Option(names = "--install", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Install Prometheus and Alertmanager with apt-get when they are missing and this runs as"
                    + " root (default: on).")
    boolean install;

    @Option(names = "--port.exporter", defaultValue = "9445", paramLabel = "PORT",
            description = "Loopback port of the exporter (default: ${DEFAULT-VALUE}).")
    int exporterPort;

    @Option(names = "--port.receiver", defaultValue = "9095", paramLabel = "PORT",
            description = "Loopback port of the receiver (default: ${DEFAULT-VALUE}).")
    int receiverPort;

    @Option(names = "--port.prometheus", defaultValue = "9090", paramLabel = "PORT",
            description = "Loopback port of Prometheus (default: ${DEFAULT-VALUE}).")
    int prometheusPort;

    @Option(names = "--port.alertmanager", defaultValue = "9093", paramLabel = "PORT",
            description = "Loopback port of Alertmanager (default: ${DEFAULT-VALUE}).")
    int alertmanagerPort;

    @Option(names = "--port.slack", defaultValue = "9101", paramLabel = "PORT",
            description = "Loopback port of the local Slack (default: ${DEFAULT-VALUE}).")
    int slackPort;

    @Option(names = "--port.pagerduty", defaultValue = "9102", paramLabel = "PORT",
            description = "Loopback port of the local PagerDuty (default: ${DEFAULT-VALUE}).")
    int pagerDutyPort;

    @Option(names = "--port.model-server", defaultValue = "8000", paramLabel = "PORT",
            description = "Loopback port of the simulated vLLM model server (default: ${DEFAULT-VALUE}).")
    int modelServerPort;

    @Option(names = "--receiver.replicas", defaultValue = "1", paramLabel = "N",
            description = "Receiver replicas: 1 on its SQLite file; 2 or more on one PostgreSQL that the stack starts"
                    + " (Debian's postgresql), on consecutive ports from --port.receiver, Alertmanager posting to"
                    + " each as HA peers would (default: ${DEFAULT-VALUE}).")
    int receiverReplicas;

    private final PrintStream out = System.out;

    public static void main(String[] args) {
        System.exit(new CommandLine(new StackMain()).execute(args));
    }

    @Override
    public Integer call() throws InterruptedException {
        Duration fault;
        Duration resolve;
        try {
            fault = duration("--fault-after", faultAfter);
            resolve = duration("--resolve-after", resolveAfter);
        } catch (IllegalArgumentException e) {
            System.err.println("gpuwatch-stack: " + e.getMessage());
            return 2;
        }
        try {
            scenario = Scenario.parse(scenario).label(); // before anything starts: an unknown name lists the valid ones
        } catch (IllegalArgumentException e) {
            System.err.println("gpuwatch-stack: --scenario: " + e.getMessage());
            return 2;
        }
        if (receiverReplicas < 1) {
            System.err.println("gpuwatch-stack: --receiver.replicas: must be 1 or more, not " + receiverReplicas);
            return 2;
        }
        Optional<Path> root = repoRoot.or(StackMain::findRepoRoot);
        if (root.isEmpty()) {
            System.err.println("gpuwatch-stack: no gpuwatch checkout (rules/ and pom.xml) above "
                    + Path.of("").toAbsolutePath() + "; run from the checkout or pass --repo-root");
            return 2;
        }
        Optional<Binaries> binaries = binaries();
        if (binaries.isEmpty()) {
            return 3;
        }
        Path work = workDir.orElse(Path.of(System.getProperty("java.io.tmpdir"), "gpuwatch-stack")).toAbsolutePath();
        try {
            Files.createDirectories(work.resolve("logs"));
            // The receiver runs in this JVM; its log lines go to a file so the demo's output stays readable.
            logTo(work.resolve("logs/receiver.log"));
        } catch (IOException e) {
            System.err.println("gpuwatch-stack: cannot create " + work + ": " + e.getMessage());
            return 1;
        }

        Ports ports = new Ports(exporterPort, receiverPort, prometheusPort, alertmanagerPort, slackPort, pagerDutyPort,
                modelServerPort);
        LocalStack.Options options = LocalStack.Options.of(work, root.get(), ports, binaries.get())
                // steady until everything is up; then the scenario is triggered in the running exporter
                .withGpus(backend, "steady", fault)
                .withProgress(line -> out.println("[stack] " + line));
        out.println("gpuwatch-stack: starting the whole chain on loopback (work dir " + work + ")");
        LocalStack stack;
        try {
            stack = LocalStack.start(options, receiverReplicas);
        } catch (StackException e) {
            System.err.println("gpuwatch-stack: " + e.getMessage());
            return 1;
        }
        try (stack) {
            printUrls(stack);
            if (!scenario.equals("steady")) {
                try {
                    stack.switchScenario(scenario);
                } catch (StackException e) {
                    System.err.println("gpuwatch-stack: " + e.getMessage());
                }
            }
            watch(stack, resolve);
        }
        return 0;
    }

    private void printUrls(LocalStack stack) {
        LocalStack.Urls u = stack.urls();
        out.println();
        out.println("Everything is up. Open:");
        out.println("  Prometheus      " + u.prometheus() + "/alerts");
        out.println("  Alertmanager    " + u.alertmanager());
        out.println("  exporter        " + u.exporter() + "/metrics");
        out.println("  receiver        " + u.receiver() + "/metrics");
        if (receiverReplicas > 1) {
            out.println("  replicas        " + String.join(", ", stack.receiverUrls()) + "   (one PostgreSQL)");
        }
        out.println("  model server    " + u.modelServer() + "/metrics   (simulated vLLM; the exporter polls it)");
        out.println("  Slack messages  " + u.slack() + "/   <- the enriched alerts land here");
        out.println("  PagerDuty       " + u.pagerDuty() + "/");
        out.println("  logs            " + stack.workDir().resolve("logs"));
        out.println();
        if (scenario.equals("steady")) {
            out.println("No fault scenario: nothing will alert. Ctrl-C stops everything.");
        } else {
            out.println("Scenario " + scenario + ": triggered now in the running exporter (POST " + u.exporter()
                    + "/-/simulated/scenario); the fault starts " + faultAfter + " later on the last GPU, and the"
                    + " alert should reach Slack within about two minutes. Ctrl-C stops everything.");
        }
        out.println();
    }

    /**
     * The alert each fault scenario is meant to fire (docs/simulated-fleet.md) and that fires within the demo's
     * minutes; the demo clears the fault once this one is in Slack. Others: the first message in Slack.
     */
    static Optional<String> headlineAlert(String scenario) {
        return Optional.ofNullable(switch (scenario) {
            case "xid79-gpu-lost" -> "GpuFellOffTheBus";
            case "thermal-throttling" -> "GpuThermalThrottling";
            case "ecc-storm" -> "GpuEccUncorrectableErrors";
            case "xid-errors" -> "GpuXidCriticalError";
            default -> null;
        });
    }

    /**
     * Until interrupted: prints Prometheus' alert states as they change and every Slack message as it arrives
     * or is updated; once the scenario's alert is in Slack, clears the fault after {@code resolve}.
     */
    private void watch(LocalStack stack, Duration resolve) throws InterruptedException {
        Map<String, String> alertStates = new HashMap<>();
        Map<String, Integer> seen = new HashMap<>();
        Optional<String> headline = headlineAlert(scenario);
        long started = System.nanoTime();
        long headlineAt = -1;
        String headlineTs = "";
        boolean cleared = scenario.equals("steady") || resolve.isZero();
        while (!Thread.currentThread().isInterrupted()) {
            Http.get(stack.urls().prometheus() + "/api/v1/alerts").ifPresent(json -> {
                List<PromAlerts.Alert> now = PromAlerts.parse(json);
                for (PromAlerts.Alert a : now) {
                    if (!a.state().equals(alertStates.put(a.key(), a.state()))) {
                        out.println("[prometheus] " + a.name() + " " + a.labels() + " is " + a.state());
                    }
                }
                // an alert whose condition ended leaves the list: that is its resolution
                alertStates.keySet().removeIf(key -> {
                    boolean gone = now.stream().noneMatch(a -> a.key().equals(key));
                    if (gone) {
                        out.println("[prometheus] " + key + " is resolved");
                    }
                    return gone;
                });
            });
            for (LocalSlackServer.Message m : stack.slack().messages()) {
                Integer before = seen.put(m.channel() + "/" + m.ts(), m.updates());
                if (before != null && before == m.updates()) {
                    continue;
                }
                out.println();
                out.println(m.threadTs().isPresent() ? "[slack] thread reply:" : before == null
                        ? "[slack] new message ts=" + m.ts() + ":" : "[slack] message ts=" + m.ts() + " updated in place:");
                m.visibleText().lines().forEach(l -> out.println("    " + l));
                out.println();
                boolean isHeadline = m.threadTs().isEmpty() && before == null
                        && headline.map(h -> m.visibleText().contains("*" + h + "*")).orElse(true);
                if (headlineAt < 0 && isHeadline) {
                    headlineAt = System.nanoTime();
                    headlineTs = m.ts();
                    out.println("==> the enriched alert reached Slack " + Duration.ofNanos(headlineAt - started).toSeconds()
                            + "s after the stack was up: " + stack.urls().slack() + "/");
                    if (!cleared) {
                        out.println("==> the fault clears in " + resolve.toSeconds() + "s; the message above then turns"
                                + " resolved in place, with a thread reply");
                        out.println("==> until then, press Silence 1h on " + stack.urls().slack() + "/ (in a browser):"
                                + " the silence shows in " + stack.urls().alertmanager() + "/#/silences");
                    }
                } else if (before != null && m.ts().equals(headlineTs)) {
                    out.println("==> resolved in place: same message (ts " + m.ts() + "), updated "
                            + m.updates() + "x; PagerDuty: " + stack.urls().pagerDuty() + "/");
                }
            }
            if (!cleared && headlineAt >= 0 && System.nanoTime() - headlineAt > resolve.toNanos()) {
                cleared = true;
                try {
                    stack.switchScenario("steady");
                } catch (StackException e) {
                    System.err.println("gpuwatch-stack: " + e.getMessage());
                }
            }
            Thread.sleep(2000);
        }
    }

    private Optional<Binaries> binaries() throws InterruptedException {
        Optional<Binaries> found = Binaries.find();
        if (found.isPresent()) {
            return found;
        }
        boolean root = "root".equals(System.getProperty("user.name"));
        if (!install || !root) {
            System.err.println("gpuwatch-stack: Prometheus and Alertmanager are needed; install them with:");
            System.err.println("  sudo apt-get update && sudo " + Binaries.INSTALL_COMMAND);
            return Optional.empty();
        }
        out.println("[stack] Prometheus or Alertmanager is missing: " + Binaries.INSTALL_COMMAND);
        for (List<String> command : List.of(List.of("apt-get", "update"),
                List.of("apt-get", "install", "-y", Binaries.PACKAGES.get(0), Binaries.PACKAGES.get(1)))) {
            try {
                ProcessBuilder pb = new ProcessBuilder(command).inheritIO();
                // Debian's packages start their own services when they can; the stack runs its own instances.
                pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
                int code = pb.start().waitFor();
                if (code != 0) {
                    System.err.println("gpuwatch-stack: " + String.join(" ", command) + " failed (exit " + code + ")");
                    return Optional.empty();
                }
            } catch (IOException e) {
                System.err.println("gpuwatch-stack: cannot run apt-get: " + e.getMessage()
                        + "; install them with: " + Binaries.INSTALL_COMMAND);
                return Optional.empty();
            }
        }
        found = Binaries.find();
        if (found.isEmpty()) {
            System.err.println("gpuwatch-stack: still no prometheus and prometheus-alertmanager after apt-get");
        }
        return found;
    }

    static Optional<Path> findRepoRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("rules")) && Files.isRegularFile(p.resolve("pom.xml"))) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /** {@code 90s}, {@code 2m}, {@code 0s}: Prometheus-style, whole seconds or minutes. */
    static Duration duration(String flag, String text) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)(s|m)").matcher(text.strip());
        if (!m.matches()) {
            throw new IllegalArgumentException(flag + ": expected a duration like 30s or 2m, got '" + text + "'");
        }
        long n = Long.parseLong(m.group(1));
        return m.group(2).equals("m") ? Duration.ofMinutes(n) : Duration.ofSeconds(n);
    }

    /** Every log line of this JVM (the receiver's, Javalin's, Jetty's) in the receiver's logfmt, appended to file. */
    private static void logTo(Path file) throws IOException {
        Logfmt.configure(LogLevel.INFO);
        Logger root = Logger.getLogger("");
        for (Handler h : root.getHandlers()) {
            root.removeHandler(h);
        }
        OutputStream out = Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        Handler handler = new StreamHandler(out, new Logfmt.LogfmtFormatter()) {
            @Override
            public synchronized void publish(LogRecord r) {
                super.publish(r);
                flush(); // a line is in the file as soon as it is logged, for whoever tails it
            }
        };
        handler.setLevel(LogLevel.INFO.julLevel());
        root.addHandler(handler);
    }
}
