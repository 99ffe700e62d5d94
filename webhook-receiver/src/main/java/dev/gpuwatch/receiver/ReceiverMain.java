package dev.gpuwatch.receiver;

import dev.gpuwatch.config.ConfigException;
import dev.gpuwatch.config.ConfigReader.Bound;
import dev.gpuwatch.config.FlagSet;
import dev.gpuwatch.config.FlagSet.Flag;
import dev.gpuwatch.config.ListenAddress;
import dev.gpuwatch.config.Overrides;
import dev.gpuwatch.logging.LogLevel;
import dev.gpuwatch.logging.Logfmt;
import dev.gpuwatch.receiver.config.ConfigLoader;
import dev.gpuwatch.receiver.config.ReceiverConfig;
import dev.gpuwatch.web.ExternalUrl;
import dev.gpuwatch.web.WebConfig;
import java.io.PrintStream;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;
import org.slf4j.LoggerFactory;

/**
 * {@code java -jar gpuwatch-receiver.jar}: flags in the shape of Prometheus and Alertmanager. A configuration it
 * cannot use (a flag, the config file, the runbook catalog, a secret, the web config) stops the start with one
 * line naming what is wrong, and exit code {@link ConfigException#EXIT_CODE}.
 */
public final class ReceiverMain {

    static final String PROGRAM = "gpuwatch-receiver";
    static final String VERSION = PROGRAM + " 0.1.0";
    static final String DEFAULT_LISTEN_ADDRESS = ":9095";
    static final String DEFAULT_STORAGE_PATH = "gpuwatch-receiver.db";

    /** None of these stands for a key of the config file, so all are read here; the file has no flags. */
    static final FlagSet FLAGS = new FlagSet(PROGRAM,
            "Durable Alertmanager webhook receiver: stores every notification before answering, then routes and"
                    + " delivers it to Slack, PagerDuty, email or the log.",
            List.of(
                    Flag.plain("--web.listen-address", "[HOST]:PORT", "Address to listen on for the webhook, /metrics"
                            + " and the API (default: " + DEFAULT_LISTEN_ADDRESS + ")."),
                    Flag.plain("--web.external-url", "URL", "The URL under which the receiver is reached, as in"
                            + " Prometheus and Alertmanager: the base of the runbook links in messages"
                            + " (URL/runbooks/NAME). Default: derived from --web.listen-address, http://HOST:PORT"
                            + " (https with TLS; a wildcard host is this machine's name)."),
                    Flag.plain("--config.file", "FILE", "YAML configuration (routes, receivers, auth). Without it:"
                            + " every notification goes to the log."),
                    Flag.plain("--storage.path", "FILE", "SQLite database file, created on first start (default: "
                            + DEFAULT_STORAGE_PATH + ")."),
                    Flag.plain("--web.config.file", "FILE", "TLS configuration in Prometheus' exporter-toolkit"
                            + " web-config format (tls_server_config: cert_file, key_file, client_auth_type,"
                            + " client_ca_file, min_version, max_version, cipher_suites)."),
                    Flag.plain("--log.level", "LEVEL", "debug, info, warn or error (default: info).")));

    private ReceiverMain() {}

    /** What the command line asks for, each value checked. */
    record Flags(ListenAddress listenAddress, Optional<ExternalUrl> externalUrl, Optional<Path> configFile,
            Path storagePath, Optional<Path> webConfigFile, LogLevel logLevel) {

        static Flags of(FlagSet.Parsed parsed) throws ConfigException {
            return new Flags(
                    value(parsed, "--web.listen-address", DEFAULT_LISTEN_ADDRESS, ListenAddress::parse,
                            ListenAddress.EXPECTED),
                    parsed.value("--web.external-url").isEmpty() ? Optional.empty()
                            : Optional.of(value(parsed, "--web.external-url", "", ExternalUrl::parse,
                                    ExternalUrl.EXPECTED)),
                    optionalPath(parsed, "--config.file"),
                    value(parsed, "--storage.path", DEFAULT_STORAGE_PATH, Flags::path, "expected a file path"),
                    optionalPath(parsed, "--web.config.file"),
                    value(parsed, "--log.level", LogLevel.INFO.label(), LogLevel::parse, LogLevel.EXPECTED));
        }

        private static <T> T value(FlagSet.Parsed parsed, String flag, String defaultText,
                Function<String, Optional<T>> parser, String expected) throws ConfigException {
            String text = parsed.value(flag).orElse(defaultText);
            Optional<T> value = parser.apply(text);
            if (value.isEmpty()) {
                throw ConfigException.inFlag(flag, expected + ", got \"" + text + "\"");
            }
            return value.get();
        }

        private static Optional<Path> optionalPath(FlagSet.Parsed parsed, String flag) throws ConfigException {
            if (parsed.value(flag).isEmpty()) {
                return Optional.empty();
            }
            return Optional.of(value(parsed, flag, "", Flags::path, "expected a file path"));
        }

        private static Optional<Path> path(String text) {
            if (text.isBlank()) {
                return Optional.empty();
            }
            try {
                return Optional.of(Path.of(text));
            } catch (InvalidPathException e) {
                return Optional.empty();
            }
        }
    }

    public static void main(String[] args) {
        int code = run(args, System.out, System.err);
        if (code != 0) {
            System.exit(code);
        }
    }

    /**
     * Starts the receiver and serves until the JVM is asked to stop (then 0); returns at once with the exit code
     * when it cannot start: {@link ConfigException#EXIT_CODE} for a configuration it cannot use, 1 for anything
     * else (the store cannot be opened, the port is taken).
     */
    static int run(String[] args, PrintStream out, PrintStream err) {
        Flags flags;
        try {
            FlagSet.Parsed parsed = FLAGS.parse(args);
            if (parsed.help()) {
                out.print(FLAGS.help());
                return 0;
            }
            if (parsed.version()) {
                out.println(VERSION);
                return 0;
            }
            flags = Flags.of(parsed);
        } catch (ConfigException e) {
            err.println(PROGRAM + ": " + e.getMessage());
            return ConfigException.EXIT_CODE;
        }
        // before anything logs: the level and the format hold for Javalin's and Jetty's lines too
        Logfmt.configure(flags.logLevel());
        var log = LoggerFactory.getLogger(ReceiverMain.class);

        Bound<ReceiverConfig> config;
        Receiver.Options options;
        try {
            config = ConfigLoader.load(flags.configFile(), Overrides.none());
            options = options(flags);
        } catch (ConfigException e) {
            err.println(PROGRAM + ": " + e.getMessage());
            return ConfigException.EXIT_CODE;
        }
        Receiver receiver;
        try {
            receiver = Receiver.start(config, options);
        } catch (ConfigException e) {
            err.println(PROGRAM + ": " + e.getMessage());
            return ConfigException.EXIT_CODE;
        } catch (SQLException e) {
            err.println(PROGRAM + ": cannot open the store " + Receiver.storeName(config.value(), flags.storagePath())
                    + ": " + e.getMessage());
            return 1;
        } catch (RuntimeException e) {
            err.println(PROGRAM + ": cannot start: " + e.getMessage());
            return 1;
        }
        log.info("listening on {}:{} at {} (store {}, config {})", flags.listenAddress().bindHost(), receiver.port(),
                receiver.externalUrl(),
                Receiver.storeName(config.value(), flags.storagePath()),
                flags.configFile().map(Path::toString).orElse("defaults: log channel only"));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            receiver.close();
            stopped.countDown();
        }, "shutdown"));
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    /** The options of the command line, with {@code --web.config.file} read by the shared web toolkit. */
    private static Receiver.Options options(Flags flags) throws ConfigException {
        var base = Receiver.Options.of(flags.storagePath(), flags.listenAddress().bindHost(),
                flags.listenAddress().port());
        base = flags.externalUrl().map(base::withExternalUrl).orElse(base);
        return flags.webConfigFile().isPresent() ? base.withWeb(WebConfig.load(flags.webConfigFile().get())) : base;
    }
}
