package dev.gpuwatch.testkit;

import dev.gpuwatch.testkit.pagerduty.LocalPagerDutyServer;
import dev.gpuwatch.testkit.postgres.PostgresServer;
import dev.gpuwatch.testkit.slack.LocalSlackServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Runs the local Slack and PagerDuty servers in a process of their own (the receiver benchmark, a receiver tried
 * by hand): a sink that shows what the receiver delivered ({@code GET /} on each), until interrupted. The demo
 * stack runs the same servers in its own JVM. With {@code --postgres-databases} it also runs a PostgreSQL with
 * crash-safe commits (the replicas benchmark), its password written to {@code --postgres-password-file}.
 *
 * <pre>java -cp testkit/target/gpuwatch-testkit.jar dev.gpuwatch.testkit.Sandbox --slack-port 9101 --pagerduty-port 9102</pre>
 */
@Command(name = "gpuwatch-sandbox", mixinStandardHelpOptions = true,
        description = "Local Slack Web API and PagerDuty Events API v2 servers that show what they receive.")
public final class Sandbox implements Callable<Integer> {

    @Option(names = "--slack-port", defaultValue = "9101", description = "Slack port (0: any free port); default ${DEFAULT-VALUE}")
    int slackPort;

    @Option(names = "--pagerduty-port", defaultValue = "9102", description = "PagerDuty port (0: any free port); default ${DEFAULT-VALUE}")
    int pagerDutyPort;

    @Option(names = "--slack-token", defaultValue = LocalSlackServer.DEFAULT_TOKEN, description = "bot token the Slack server accepts")
    String slackToken;

    @Option(names = "--postgres-databases", split = ",", paramLabel = "NAME",
            description = "also start PostgreSQL (fsync on) with these empty databases, owned by user "
                    + PostgresServer.USER)
    List<String> postgresDatabases = List.of();

    @Option(names = "--postgres-password-file", paramLabel = "FILE",
            description = "where to write the PostgreSQL user's password (required with --postgres-databases)")
    Optional<Path> postgresPasswordFile = Optional.empty();
    @Option(names = "--slack-interactivity-url", description = "the receiver's interactivity request URL"
            + " (<external-url>/api/v1/slack/interactions) that the page's buttons press; none: buttons not pressed")
    String slackInteractivityUrl;

    @Option(names = "--slack-signing-secret-file", description = "the signing secret presses are signed with"
            + " (the receiver's signing_secret_file)")
    java.nio.file.Path slackSigningSecretFile;

    public static void main(String[] args) {
        System.exit(new CommandLine(new Sandbox()).execute(args));
    }

    @Override
    public Integer call() throws InterruptedException, IOException {
        Optional<PostgresServer> postgres = startPostgres();
        // the benchmark ends this process with SIGTERM: the database must not outlive it
        postgres.ifPresent(p -> Runtime.getRuntime().addShutdownHook(new Thread(p::close, "postgres-stop")));
        try (LocalSlackServer slack = LocalSlackServer.start(slackPort, slackToken);
                LocalPagerDutyServer pagerDuty = LocalPagerDutyServer.start(pagerDutyPort)) {
            if (slackInteractivityUrl != null) {
                if (slackSigningSecretFile == null) {
                    System.err.println("--slack-interactivity-url needs --slack-signing-secret-file");
                    return 2;
                }
                slack.interactivity(slackInteractivityUrl, java.nio.file.Files.readString(slackSigningSecretFile).strip());
                System.out.println("slack buttons press: " + slackInteractivityUrl);
            }
            System.out.println("slack api_url: " + slack.apiUrl() + " (channel #" + LocalSlackServer.DEFAULT_CHANNEL + ")");
            System.out.println("slack webhook: " + slack.webhookUrl());
            System.out.println("slack messages: http://127.0.0.1:" + slack.port() + "/");
            System.out.println("pagerduty url: " + pagerDuty.enqueueUrl());
            System.out.println("pagerduty incidents: http://127.0.0.1:" + pagerDuty.port() + "/");
            for (String database : postgresDatabases) {
                System.out.println("postgres url: jdbc:postgresql://127.0.0.1:" + postgres.orElseThrow().port() + "/"
                        + database + " user: " + PostgresServer.USER);
            }
            new CountDownLatch(1).await();
        }
        return 0;
    }

    private Optional<PostgresServer> startPostgres() throws IOException {
        if (postgresDatabases.isEmpty()) {
            return Optional.empty();
        }
        Path passwordFile = postgresPasswordFile.orElseThrow(() -> new CommandLine.ParameterException(
                new CommandLine(this), "--postgres-databases needs --postgres-password-file"));
        String password = UUID.randomUUID().toString();
        Files.writeString(passwordFile, password + "\n");
        PostgresServer server = PostgresServer.start(password, PostgresServer.Durability.MACHINE_CRASH);
        postgresDatabases.forEach(server::newDatabase);
        return Optional.of(server);
    }
}
