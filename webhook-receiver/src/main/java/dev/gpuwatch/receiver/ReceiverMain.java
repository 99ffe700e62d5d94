package dev.gpuwatch.receiver;

import dev.gpuwatch.receiver.config.ConfigException;
import dev.gpuwatch.receiver.config.ConfigLoader;
import dev.gpuwatch.receiver.config.ReceiverConfig;
import dev.gpuwatch.web.WebConfig;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code java -jar gpuwatch-receiver.jar}: flags in the shape of Prometheus and Alertmanager. */
@Command(name = "gpuwatch-receiver", mixinStandardHelpOptions = true, version = "gpuwatch-receiver 0.1.0",
        description = "Durable Alertmanager webhook receiver: stores every notification before answering, then"
                + " routes and delivers it to Slack, PagerDuty, email or the log.")
public final class ReceiverMain implements Callable<Integer> {

    @Option(names = "--web.listen-address", defaultValue = ":9095",
            description = "Address to listen on for the webhook, /metrics and the API (default: ${DEFAULT-VALUE}).")
    String listenAddress;

    @Option(names = "--config.file", description = "YAML configuration (routes, receivers, auth). Without it:"
            + " every notification goes to the log.")
    Optional<Path> configFile;

    @Option(names = "--storage.path", defaultValue = "gpuwatch-receiver.db",
            description = "SQLite database file, created on first start (default: ${DEFAULT-VALUE}).")
    Path storagePath;

    @Option(names = "--web.config.file", description = "TLS and basic auth in Prometheus' exporter-toolkit web-config format"
            + " (tls_server_config, basic_auth_users with bcrypt hashes), as the exporter reads it.")
    Optional<Path> webConfigFile;

    @Option(names = "--log.level", defaultValue = "info",
            description = "debug, info, warn or error (default: ${DEFAULT-VALUE}).")
    String logLevel;

    public static void main(String[] args) {
        CommandLine cli = new CommandLine(new ReceiverMain());
        int code = cli.execute(args);
        if (code != 0) {
            System.exit(code);
        }
    }

    @Override
    public Integer call() {
        String level = logLevel.toLowerCase(Locale.ROOT);
        if (!level.matches("debug|info|warn|error")) {
            System.err.println("gpuwatch-receiver: --log.level must be debug, info, warn or error");
            return 2;
        }
        // slf4j-simple reads its level once, when the first logger is created: set it before any
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", level);
        System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");
        System.setProperty("org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSXXX");
        var log = LoggerFactory.getLogger(ReceiverMain.class);

        ListenAddress address;
        ReceiverConfig config;
        Receiver.Options options;
        try {
            address = ListenAddress.parse(listenAddress);
            config = configFile.isPresent() ? ConfigLoader.load(configFile.get()) : ReceiverConfig.defaults();
            var base = Receiver.Options.of(storagePath, address.host(), address.port());
            options = new Receiver.Options(base.storagePath(), base.host(), base.port(), base.maxPageCount(),
                    webConfigFile.isPresent() ? WebConfig.load(webConfigFile.get()) : base.web(),
                    base.enricher(), base.clock(), base.dispatchOverride());
        } catch (ConfigException e) {
            System.err.println("gpuwatch-receiver: invalid configuration: " + e.getMessage());
            return 2;
        } catch (dev.gpuwatch.config.ConfigException e) { // --web.config.file, read by the shared web toolkit
            System.err.println("gpuwatch-receiver: " + e.getMessage());
            return dev.gpuwatch.config.ConfigException.EXIT_CODE;
        } catch (IllegalArgumentException e) {
            System.err.println("gpuwatch-receiver: " + e.getMessage());
            return 2;
        }
        Receiver receiver;
        try {
            receiver = Receiver.start(config, options);
        } catch (ConfigException e) {
            System.err.println("gpuwatch-receiver: invalid configuration: " + e.getMessage());
            return 2;
        } catch (SQLException e) {
            System.err.println("gpuwatch-receiver: cannot open the store " + storagePath + ": " + e.getMessage());
            return 1;
        } catch (RuntimeException e) {
            System.err.println("gpuwatch-receiver: cannot start: " + e.getMessage());
            return 1;
        }
        log.info("listening on {}:{} (store {}, config {})", address.host(), receiver.port(),
                storagePath.toAbsolutePath(), configFile.map(Path::toString).orElse("defaults: log channel only"));
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

    /** {@code host:port}, {@code :port} (all interfaces) or {@code [v6]:port}. */
    record ListenAddress(String host, int port) {
        static ListenAddress parse(String text) {
            int colon = text.lastIndexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("--web.listen-address must be host:port or :port, got " + text);
            }
            String host = text.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            int port;
            try {
                port = Integer.parseInt(text.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--web.listen-address: bad port in " + text);
            }
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("--web.listen-address: bad port in " + text);
            }
            return new ListenAddress(host.isEmpty() ? "0.0.0.0" : host, port);
        }
    }
}
