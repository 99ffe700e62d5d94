package dev.gpuwatch.exporter;

import dev.gpuwatch.config.ConfigException;
import dev.gpuwatch.config.FlagSet;
import dev.gpuwatch.exporter.collector.DcgmCompatCollector;
import dev.gpuwatch.exporter.collector.GpuCollector;
import dev.gpuwatch.exporter.collector.NamedCollector;
import dev.gpuwatch.exporter.config.ExporterConfig;
import dev.gpuwatch.exporter.config.ExporterSettings;
import dev.gpuwatch.exporter.modelserver.ModelServers;
import dev.gpuwatch.exporter.modelserver.InferenceSettings;
import dev.gpuwatch.logging.Logfmt;
import dev.gpuwatch.probe.GpuProbes;
import dev.gpuwatch.probe.cuda.CudaOptions;
import dev.gpuwatch.probe.nvml.NvmlOptions;
import dev.gpuwatch.probe.simulated.SimulationOptions;
import dev.gpuwatch.web.WebConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;

/**
 * {@code java -jar gpuwatch-exporter.jar [flags]}: the Prometheus exporter for the GPUs of this node. A
 * configuration it cannot run with (a bad flag or file, an unknown flag, a bad web config or model_servers
 * section) is one line on stderr and exit status {@link ConfigException#EXIT_CODE}.
 */
public final class ExporterMain {

    private final PrintWriter out;
    private final PrintWriter err;

    ExporterMain(PrintWriter out, PrintWriter err) {
        this.out = out;
        this.err = err;
    }

    public static void main(String[] args) {
        // The model-server pollers (virtual threads) parse and render megabytes of text every poll interval. With
        // the default scheduler (one carrier per core) they took both cores of a 2-core node at once and starved
        // the scrape thread: scrape p99 16 ms with 4 targets of 2,000 series, 2.5 ms on one carrier
        // (docs/benchmarks.md). Background work gets one core; scrapes run on the HTTP server's platform threads.
        // Set before the first virtual thread exists, which is when the scheduler reads it; a -D flag wins.
        if (System.getProperty("jdk.virtualThreadScheduler.parallelism") == null) {
            System.setProperty("jdk.virtualThreadScheduler.parallelism", "1");
        }
        System.exit(new ExporterMain(new PrintWriter(System.out, true), new PrintWriter(System.err, true)).run(args));
    }

    /** Runs the exporter until the JVM shuts down; returns at once with the exit status when it cannot start. */
    int run(String... args) {
        ExporterConfig config;
        WebConfig web;
        try {
            FlagSet.Parsed flags = ExporterConfig.FLAGS.parse(args);
            if (flags.help()) {
                out.print(ExporterConfig.FLAGS.help());
                out.flush();
                return 0;
            }
            if (flags.version()) {
                out.println("gpuwatch-exporter " + Exporter.version() + " (Java " + Runtime.version() + ")");
                return 0;
            }
            config = ExporterConfig.read(flags);
            Optional<Path> webConfigFile = config.settings().web().configFile();
            web = webConfigFile.isPresent() ? WebConfig.load(webConfigFile.get()) : WebConfig.none();
        } catch (ConfigException e) {
            return configError(e.getMessage());
        }
        Logfmt.configure(config.settings().log().level());
        Exporter exporter;
        try {
            exporter = Exporter.start(config, web, ExporterMain::openBackend, ExporterMain::collectors, InstantSource.system());
        } catch (ConfigException e) {
            // the web config's TLS files
            return configError(e.getMessage());
        } catch (IOException e) {
            err.println("gpuwatch-exporter: cannot listen on " + config.settings().web().listenAddress() + ": " + e.getMessage());
            return 1;
        }
        out.println("gpuwatch exporter " + Exporter.version() + ": GPU backend " + exporter.backend() + "; open " + exporter.url());
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            exporter.close();
            stopped.countDown();
        }, "gpuwatch-shutdown"));
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    private int configError(String message) {
        err.println("gpuwatch-exporter: " + message);
        return ConfigException.EXIT_CODE;
    }

    /**
     * Every collector the exporter serves, in one place. Each is named for its
     * {@code gpuwatch_exporter_collector_*{collector}} series; add new ones (e.g. the model-server collectors) to
     * this list, and what must be closed on shutdown to {@code resources}.
     */
    static Exporter.Extension collectors(Exporter.Context context) {
        List<NamedCollector> collectors = new ArrayList<>();
        List<AutoCloseable> resources = new ArrayList<>();
        ExporterSettings.Collectors enabled = context.config().settings().collectors();
        GpuCollector.Options options = new GpuCollector.Options(enabled.processes().topN(), enabled.gpm().nvlinkLinks());
        for (GpuCollector c : GpuCollector.values()) {
            if (enabled.enabled(c)) {
                collectors.add(new NamedCollector(c.label(), c.create(context.gpus(), options)));
            }
        }
        ModelServers inference = ModelServers.open(context.config().modelServers(), context.gpus());
        collectors.add(new NamedCollector("inference", inference.collector()));
        if (context.config().settings().compat().dcgmExporter()) {
            collectors.add(new NamedCollector("dcgm_compat", new DcgmCompatCollector(context.gpus(), enabled.enabled(),
                    enabled.gpm().nvlinkLinks(), hostname(context.config().modelServers()), inference::gpuPods)));
        }
        resources.add(inference);
        return new Exporter.Extension(collectors, resources, List.of(inference::notReady));
    }

    /**
     * dcgm-exporter's {@code Hostname} label: the Kubernetes node name the model-server settings know (from
     * {@code NODE_NAME} by default), else this host's name, as dcgm-exporter takes it.
     */
    static String hostname(InferenceSettings modelServers) {
        Optional<String> node = modelServers.attribution().kubernetes().map(InferenceSettings.Kubernetes::nodeName)
                .filter(n -> !n.isEmpty());
        if (node.isPresent()) {
            return node.get();
        }
        String env = System.getenv("NODE_NAME");
        if (env != null && !env.isEmpty()) {
            return env;
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }

    /** Opens the configured backend through {@link GpuProbes}, the one way probes are opened. */
    static GpuProbes.Result openBackend(ExporterConfig config) {
        return GpuProbes.open(config.settings().probeRequest());
    }
}
