package dev.gpuwatch.testkit;

import dev.gpuwatch.testkit.pagerduty.LocalPagerDutyServer;
import dev.gpuwatch.testkit.slack.LocalSlackServer;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Runs the local Slack and PagerDuty servers in a process of their own (the receiver benchmark, a receiver tried
 * by hand): a sink that shows what the receiver delivered ({@code GET /} on each), until interrupted. The demo
 * stack runs the same servers in its own JVM.
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
    public Integer call() throws InterruptedException, java.io.IOException {
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
            new CountDownLatch(1).await();
        }
        return 0;
    }
}
