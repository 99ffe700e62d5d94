package dev.gpuwatch.stack;

import static dev.gpuwatch.stack.StackAwait.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.icegreen.greenmail.junit5.GreenMailExtension;
import com.icegreen.greenmail.util.GreenMailUtil;
import com.icegreen.greenmail.util.ServerSetupTest;
import dev.gpuwatch.testkit.pagerduty.LocalPagerDutyServer;
import dev.gpuwatch.testkit.slack.LocalSlackServer;
import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeMessage;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole chain on loopback, as the demo runs it: the running exporter's simulated fleet is switched to a lost
 * GPU (Xid 79, then off the bus) through its scenario endpoint, the exporter shows it, real Prometheus evaluates
 * the shipped rules, real Alertmanager routes with the shipped example, the receiver enriches and delivers to the
 * local Slack and PagerDuty and to GreenMail; then the fleet is switched back to steady, without a restart, and
 * every channel resolves in place.
 */
class EndToEndTest {

    private static final String ALERT = "GpuFellOffTheBus";
    /** Generous: the fault, the rule's for: 30s and Alertmanager's group_wait take about a minute and a half. */
    private static final Duration FIRING_DEADLINE = Duration.ofMinutes(3);
    private static final Duration RESOLVED_DEADLINE = Duration.ofMinutes(2);

    @RegisterExtension
    static final GreenMailExtension MAIL = new GreenMailExtension(ServerSetupTest.SMTP.dynamicPort());

    @Test
    void lostGpuAlertArrivesEnrichedEverywhereAndResolvesInPlace(@TempDir Path work) throws Exception {
        Binaries binaries = Binaries.find().orElseThrow(() -> new AssertionError(
                "prometheus and prometheus-alertmanager must be installed: " + Binaries.INSTALL_COMMAND));
        Path root = StackMain.findRepoRoot().orElseThrow();
        LocalStack.Options options = LocalStack.Options.of(work, root, Ports.free(), binaries)
                .withGpus("simulated", "steady", Duration.ofSeconds(5))
                .withSmtp(new LocalStack.Smtp("127.0.0.1", MAIL.getSmtp().getPort(), "gpuwatch@localhost",
                        "oncall@localhost"))
                .withProgress(line -> System.out.println("[stack] " + line));

        try (LocalStack stack = LocalStack.start(options)) {
            // the receiver serves the runbook itself, at its external URL
            String runbook = stack.urls().receiver() + "/runbooks/" + ALERT.toLowerCase(Locale.ROOT);
            // the model server is part of the chain: the exporter polls it and Prometheus has its series
            await(stack, "the model server's series in Prometheus", FIRING_DEADLINE,
                    () -> Http.get(stack.urls().prometheus() + "/api/v1/query?query=inference_target_up%7Btarget%3D%22llama-70b%22%7D%3D%3D1")
                            .filter(body -> body.contains("\"llama-70b\"")));
            // and its GPU memory: this JVM (the model server's process) is shown as GPU 0's process, the exporter
            // finds the model server's port in its tree and attributes that memory to the model
            String memory = "inference_model_gpu_memory_bytes{target=\"llama-70b\", model=\"llama-70b\", gpu=\""
                    + LocalStack.MODEL_SERVER_GPU + "\"} > 0";
            await(stack, "the model's GPU memory in Prometheus", FIRING_DEADLINE,
                    () -> Http.get(stack.urls().prometheus() + "/api/v1/query?query="
                                    + URLEncoder.encode(memory, StandardCharsets.UTF_8))
                            .filter(body -> body.contains("\"__name__\":\"inference_model_gpu_memory_bytes\"")));

            // (1) the fault, triggered in the running exporter as the demo does; then firing: Slack, PagerDuty and
            // email, each enriched with the runbook
            stack.switchScenario("xid79-gpu-lost");
            LocalSlackServer.Message posted = await(stack, "a Slack message for " + ALERT, FIRING_DEADLINE,
                    () -> stack.slack().messages().stream()
                            .filter(m -> m.threadTs().isEmpty() && m.visibleText().contains(ALERT))
                            .findFirst());
            String text = posted.visibleText();
            System.out.println("[test] the firing Slack message:\n" + text);
            assertTrue(text.contains("firing"), text);
            assertTrue(text.contains("critical"), text);
            assertTrue(text.contains("<" + runbook + "|Runbook>"), "runbook link in:\n" + text);
            // and the link opens: the receiver's rendered runbook of the alert
            HttpResponse<String> page = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(runbook))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, page.statusCode(), runbook);
            assertTrue(page.body().contains("<title>" + ALERT + "</title>"), page.body());
            assertTrue(text.contains("gpu=\"7\"") || text.contains("gpu=7"), "the lost GPU's label in:\n" + text);
            // the links the receiver renders: the alert's graph in Prometheus and a silence in Alertmanager
            assertTrue(text.contains(stack.urls().prometheus()), "Prometheus link in:\n" + text);
            assertTrue(text.contains(stack.urls().alertmanager()), "Alertmanager link in:\n" + text);
            // the alert's graph, rendered from the stack's Prometheus, is in the message's thread
            LocalSlackServer.SharedFile graph = await(stack, "the graph in the thread of the Slack message",
                    FIRING_DEADLINE, () -> stack.slack().files(posted.channel(), posted.ts()).stream().findFirst());
            java.awt.image.BufferedImage png = javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(graph.bytes()));
            assertTrue(png != null && png.getWidth() >= 400, "a PNG: " + graph.name());
            assertTrue(graph.title().contains(ALERT), graph.title());
            // and every link the message carries opens (runbook, graph, silence, and any other the catalog adds)
            List<String> links = links(posted.blocksJson());
            assertTrue(links.size() >= 3, "runbook, graph and silence links at least: " + links);
            assertAllOpen(links);

            LocalPagerDutyServer.Event trigger = await(stack, "a PagerDuty trigger for " + ALERT, FIRING_DEADLINE,
                    () -> stack.pagerDuty().events().stream()
                            .filter(e -> e.action().equals("trigger") && e.json().contains(ALERT))
                            .findFirst());
            assertEquals(LocalStack.ROUTING_KEY, trigger.routingKey());
            assertEquals("critical", trigger.body().path("payload").path("severity").asText());
            assertTrue(trigger.json().contains(runbook), "runbook link in the PagerDuty event:\n" + trigger.json());
            // the event's links and images open too
            List<String> eventLinks = new java.util.ArrayList<>();
            trigger.body().path("links").forEach(l -> eventLinks.add(l.path("href").asText()));
            trigger.body().path("images").forEach(i -> {
                eventLinks.add(i.path("src").asText());
                if (i.hasNonNull("href")) {
                    eventLinks.add(i.path("href").asText());
                }
            });
            assertFalse(eventLinks.isEmpty(), "links in the PagerDuty event:\n" + trigger.json());
            assertAllOpen(eventLinks);

            MimeMessage firstMail = await(stack, "an email for " + ALERT, FIRING_DEADLINE,
                    () -> mails().stream().filter(m -> subject(m).contains(ALERT) && !subject(m).startsWith("Re:"))
                            .findFirst());
            assertTrue(GreenMailUtil.getBody(firstMail).contains(runbook) || body(firstMail).contains(runbook),
                    "runbook link in the email");
            String firstId = header(firstMail, "Message-ID");

            // (2) the fault clears: the same message turns resolved, with a thread reply; PagerDuty resolves the
            // same incident; the email is a reply in the same thread
            stack.switchScenario("steady");

            LocalSlackServer.Message updated = await(stack, "the Slack message of " + ALERT + " resolved in place",
                    RESOLVED_DEADLINE, () -> stack.slack().messages().stream()
                            .filter(m -> m.ts().equals(posted.ts()) && m.updates() > 0
                                    && m.visibleText().contains("resolved"))
                            .findFirst());
            assertEquals(posted.channel(), updated.channel());
            assertTrue(updated.visibleText().contains(ALERT), updated.visibleText());
            // a "firing again" reply (alerts joining the group) may come first; the resolve must be in the thread
            await(stack, "a Resolved thread reply under the resolved message", RESOLVED_DEADLINE,
                    () -> stack.slack().thread(posted.channel(), posted.ts()).stream()
                            .filter(r -> r.text().contains("Resolved")).findFirst());

            LocalPagerDutyServer.Event resolve = await(stack, "a PagerDuty resolve for " + ALERT, RESOLVED_DEADLINE,
                    () -> stack.pagerDuty().events().stream()
                            .filter(e -> e.action().equals("resolve") && e.dedupKey().equals(trigger.dedupKey()))
                            .findFirst());
            assertEquals(trigger.routingKey(), resolve.routingKey());
            assertEquals("resolved", stack.pagerDuty().incident(trigger.dedupKey()).orElseThrow().status());

            MimeMessage reply = await(stack, "an email reply resolving " + ALERT, RESOLVED_DEADLINE,
                    () -> mails().stream().filter(m -> firstId.equals(header(m, "In-Reply-To"))).findFirst());
            assertTrue(subject(reply).startsWith("Re: "), subject(reply));
            assertTrue(header(reply, "References").contains(firstId));
            assertFalse(header(reply, "Message-ID").equals(firstId));

            // the scenario switched twice without a restart: Prometheus never saw the exporter down
            assertEquals(Optional.of("steady\n"), Http.get(stack.urls().exporter() + "/-/simulated/scenario"));
            String upAlways = Http.get(stack.urls().prometheus() + "/api/v1/query?query="
                    + URLEncoder.encode("min_over_time(up{job=\"gpuwatch-exporter\"}[15m]) == 1", StandardCharsets.UTF_8))
                    .orElseThrow();
            assertTrue(upAlways.contains("\"job\":\"gpuwatch-exporter\""), "the exporter was down at some scrape:\n"
                    + upAlways + "\n" + stack.dump());
        }
    }

    /** Every URL of a Slack message's mrkdwn links ({@code <url|text>}) and link buttons ({@code "url": …}). */
    private static List<String> links(String blocksJson) {
        List<String> found = new java.util.ArrayList<>();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("<(https?://[^|>]+)\\|")
                .matcher(blocksJson);
        while (m.find()) {
            found.add(m.group(1).replace("&amp;", "&"));
        }
        java.util.regex.Matcher u = java.util.regex.Pattern.compile("\"url\"\\s*:\\s*\"(https?://[^\"]+)\"")
                .matcher(blocksJson);
        while (u.find()) {
            found.add(u.group(1));
        }
        return found.stream().distinct().toList();
    }

    /** GETs each URL as a browser following the link would (without the fragment) and wants 200. */
    private static void assertAllOpen(List<String> urls) throws Exception {
        HttpClient client = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL).build();
        for (String url : urls) {
            HttpResponse<byte[]> r = client.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20))
                    .build(), HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, r.statusCode(), "GET " + url);
            System.out.println("[test] link opens: " + url);
        }
    }


    private static List<MimeMessage> mails() {
        return Arrays.asList(MAIL.getReceivedMessages());
    }

    private static String subject(MimeMessage m) {
        try {
            return Optional.ofNullable(m.getSubject()).orElse("");
        } catch (MessagingException e) {
            return "";
        }
    }

    private static String header(MimeMessage m, String name) {
        try {
            return Optional.ofNullable(m.getHeader(name, ",")).orElse("");
        } catch (MessagingException e) {
            return "";
        }
    }

    private static String body(MimeMessage m) {
        return GreenMailUtil.getWholeMessage(m);
    }
}
