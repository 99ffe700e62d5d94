package dev.gpuwatch.exporter;

import dev.gpuwatch.exporter.collector.GpuCollector;
import dev.gpuwatch.exporter.collector.NamedCollector;
import dev.gpuwatch.exporter.config.ConfigException;
import dev.gpuwatch.exporter.config.ExporterConfig;
import dev.gpuwatch.exporter.inference.InferenceModule;
import dev.gpuwatch.exporter.inference.InferenceSettings;
import dev.gpuwatch.probe.GpuProbes;
import dev.gpuwatch.probe.cuda.CudaOptions;
import dev.gpuwatch.probe.nvml.NvmlOptions;
import dev.gpuwatch.probe.simulated.SimulationOptions;
import dev.gpuwatch.web.WebConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code java -jar gpuwatch-exporter.jar [flags]}: the Prometheus exporter for the GPUs of this node. */
@Command(name = "gpuwatch-exporter", mixinStandardHelpOptions = true, versionProvider = ExporterMain.Version.class,
        sortOptions = false, usageHelpWidth = 110,
        description = "Prometheus exporter for NVIDIA GPUs: serves /metrics, a landing page at /, /-/healthy and /-/ready;"
                + " with the simulated fleet also /-/simulated/scenario (GET shows it, POST scenario=NAME switches it).")
public final class ExporterMain implements Callable<Integer> {

    @Mixin
    Flags flags = new Flags();

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
        int code = commandLine(new ExporterMain(new PrintWriter(System.out, true), new PrintWriter(System.err, true)))
                .execute(args);
        System.exit(code);
    }

    static CommandLine commandLine(ExporterMain main) {
        CommandLine cl = new CommandLine(main);
        cl.setNegatableOptionTransformer(new DottedNegation());
        main.flags.addCollectorOptions(cl.getCommandSpec());
        cl.setOut(main.out);
        cl.setErr(main.err);
        // A bad flag: one line naming it, not the whole usage text.
        cl.setParameterExceptionHandler((e, args) -> {
            e.getCommandLine().getErr().println("gpuwatch-exporter: " + e.getMessage() + " (see --help)");
            return e.getCommandLine().getCommandSpec().exitCodeOnInvalidInput();
        });
        return cl;
    }

    /** Parses {@code args} and resolves the configuration without starting anything (for tests and checks). */
    static ExporterConfig parse(String... args) throws ConfigException {
        ExporterMain main = new ExporterMain(new PrintWriter(PrintWriter.nullWriter()), new PrintWriter(PrintWriter.nullWriter()));
        try {
            commandLine(main).parseArgs(args);
        } catch (CommandLine.ParameterException e) {
            throw new ConfigException(e.getMessage());
        }
        return main.flags.resolve();
    }

    @Override
    public Integer call() {
        ExporterConfig config;
        WebConfig web;
        try {
            config = flags.resolve();
            web = config.webConfigFile().isPresent() ? WebConfig.load(config.webConfigFile().get()) : WebConfig.none();
        } catch (ConfigException e) {
            err.println("gpuwatch-exporter: " + e.getMessage());
            return 1;
        } catch (dev.gpuwatch.config.ConfigException e) { // --web.config.file, read by the shared web toolkit
            err.println("gpuwatch-exporter: " + e.getMessage());
            return dev.gpuwatch.config.ConfigException.EXIT_CODE;
        }
        Logging.configure(config.logLevel().julLevel());
        Exporter exporter;
        try {
            exporter = Exporter.start(config, web, ExporterMain::openBackend, ExporterMain::collectors, InstantSource.system());
        } catch (ConfigException | IllegalArgumentException e) { // IllegalArgumentException: model_servers sections
            err.println("gpuwatch-exporter: " + e.getMessage());
            return 1;
        } catch (IOException e) {
            err.println("gpuwatch-exporter: cannot listen on " + config.listenAddress() + ": " + e.getMessage());
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

    /**
     * Every collector the exporter serves, in one place. Each is named for its
     * {@code gpuwatch_exporter_collector_*{collector}} series; add new ones (e.g. the model-server collectors) to
     * this list, and what must be closed on shutdown to {@code resources}.
     */
    static Exporter.Extension collectors(Exporter.Context context) {
        List<NamedCollector> collectors = new ArrayList<>();
        List<AutoCloseable> resources = new ArrayList<>();
        for (GpuCollector c : GpuCollector.values()) {
            if (context.config().collectors().contains(c)) {
                collectors.add(new NamedCollector(c.label(), c.create(context.gpus(), context.config().processesTopN())));
            }
        }
        InferenceModule inference = InferenceModule.open(InferenceSettings.load(context.config().configFile()), context.gpus());
        collectors.add(new NamedCollector("inference", inference.collector()));
        resources.add(inference);
        return new Exporter.Extension(collectors, resources);
    }

    /** Opens the configured backend through {@link GpuProbes}, the one way probes are opened. */
    static GpuProbes.Result openBackend(ExporterConfig config) {
        return GpuProbes.open(probeRequest(config));
    }

    static GpuProbes.Request probeRequest(ExporterConfig config) {
        NvmlOptions nvmlDefaults = NvmlOptions.defaults();
        ExporterConfig.Nvml n = config.nvml();
        // Without the xid collector nobody reads Xid counts: do not run NVML's event thread for them.
        NvmlOptions nvml = new NvmlOptions(n.library(),
                n.pcieSampleInterval().orElse(nvmlDefaults.pcieSampleInterval()),
                n.watchXid().orElse(config.collectors().contains(GpuCollector.XID)));
        SimulationOptions sim = SimulationOptions.defaults();
        ExporterConfig.Simulated s = config.simulated();
        if (s.devices().isPresent()) {
            sim = sim.withDevices(s.devices().getAsInt());
        }
        if (s.model().isPresent()) {
            sim = sim.withModel(s.model().get());
        }
        if (s.scenario().isPresent()) {
            sim = sim.withScenario(s.scenario().get());
        }
        if (s.seed().isPresent()) {
            sim = sim.withSeed(s.seed().getAsLong());
        }
        if (s.faultAfter().isPresent()) {
            sim = sim.withFaultAfter(s.faultAfter().get());
        }
        sim = sim.withHostProcesses(s.hostProcesses()); // last: checked against the final number of devices
        CudaOptions cudaDefaults = CudaOptions.defaults();
        ExporterConfig.Cuda c = config.cuda();
        CudaOptions cuda = new CudaOptions(c.healthCheck(),
                c.healthCheckInterval().orElse(cudaDefaults.healthCheckInterval()),
                c.healthCheckTimeout().orElse(cudaDefaults.healthCheckTimeout()));
        return new GpuProbes.Request(config.backend(), nvml, sim, Optional.of(cuda));
    }

    /** {@code --x.y} is negated as {@code --no-x.y}; picocli's default pattern does not allow dots in names. */
    static final class DottedNegation implements CommandLine.INegatableOptionTransformer {
        @Override
        public String makeNegative(String optionName, CommandLine.Model.CommandSpec cmd) {
            return optionName.startsWith("--no-") ? "--" + optionName.substring(5) : "--no-" + optionName.substring(2);
        }

        @Override
        public String makeSynopsis(String optionName, CommandLine.Model.CommandSpec cmd) {
            return "--[no-]" + optionName.substring(2);
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"gpuwatch-exporter " + Exporter.version() + " (Java " + Runtime.version() + ")"};
        }
    }
}
