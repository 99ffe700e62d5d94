package dev.gpuwatch.receiver.inbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpuwatch.receiver.Payloads;
import dev.gpuwatch.receiver.Polling;
import dev.gpuwatch.receiver.Receiver;
import dev.gpuwatch.receiver.config.ConfigLoader;
import dev.gpuwatch.receiver.store.NotificationStore;
import dev.gpuwatch.testkit.http.Failure;
import dev.gpuwatch.testkit.slack.LocalSlackServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The inbox in a real headless Chromium (Debian's, see {@link Chromium}) against a receiver started as the other
 * receiver tests start one, delivering to the local Slack: the pages show what was sent, a dead letter is replayed
 * from its page and reaches Slack, the route tester answers for pasted labels and for a picked notification, and a
 * browser without credentials gets the API's 401.
 *
 * <p>With {@code -Dinbox.screenshots=DIR} (or {@code INBOX_SCREENSHOTS=DIR}) it saves a PNG of every page there
 * ({@code docs/inbox/} holds the committed ones); without it, it writes nothing outside its temporary folder.
 */
class InboxBrowserTest {

    private static final String USER = "oncall";
    private static final String PASSWORD = "correct horse battery staple";

    @TempDir
    Path dir;

    private LocalSlackServer slack;
    private Receiver receiver;
    private Chromium chromium;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws Exception {
        slack = LocalSlackServer.start(0);
        slack.addChannel("oncall");
        slack.addChannel("ml-alerts");
        Path token = Files.writeString(dir.resolve("slack-token"), slack.token());
        Path password = Files.writeString(dir.resolve("inbox-password"), PASSWORD);
        String slackConfig = "{bot_token_file: %s, api_url: %s, channel: \"#%%s\"}".formatted(token, slack.apiUrl());
        receiver = Receiver.start(ConfigLoader.parse("test.yml", """
                ingest:
                  auth:
                    basic_auth: {username: %s, password_file: %s}
                dispatch:
                  rate_limits: {slack: 0}
                route:
                  receiver: default
                  routes:
                    - matchers: ['severity="critical"']
                      receiver: oncall
                      continue: true
                    - matchers: ['team=~"ml"']
                      receiver: ml
                      routes:
                        - matchers: ['env="staging"']
                receivers:
                  - name: default
                    slack_configs: [%s]
                  - name: oncall
                    slack_configs: [%s]
                  - name: ml
                    slack_configs: [%s]
                """.formatted(USER, password, slackConfig.formatted("alerts"), slackConfig.formatted("oncall"),
                slackConfig.formatted("ml-alerts"))),
                Receiver.Options.of(dir.resolve("r.db"), "127.0.0.1", 0));
        chromium = new Chromium(dir.resolve("chromium-profile"), 1360, 1000);
    }

    @AfterEach
    void stop() {
        if (chromium != null) {
            chromium.close();
        }
        if (receiver != null) {
            receiver.close();
        }
        if (slack != null) {
            slack.close();
        }
    }

    @Test
    void anUnauthenticatedBrowserGetsTheApisAnswer() throws Exception {
        HttpResponse<String> api = get("/api/v1/dead-letters", Optional.empty());
        HttpResponse<String> inbox = get("/inbox/", Optional.empty());
        assertEquals(401, api.statusCode());
        assertEquals(401, inbox.statusCode());
        assertEquals(api.body(), inbox.body());
        assertEquals(api.headers().firstValue("WWW-Authenticate"), inbox.headers().firstValue("WWW-Authenticate"));
        for (String path : List.of("/inbox", "/inbox/dead-letters", "/inbox/route", "/inbox/notifications/1",
                "/inbox/inbox.css")) {
            assertEquals(401, get(path, Optional.empty()).statusCode(), path);
        }
        assertEquals(401, http.send(HttpRequest.newBuilder(URI.create(local("/inbox/dead-letters/1/replay")))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString())
                .statusCode());
        chromium.driver.get(local("/inbox/"));
        // headless Chromium renders a basic-auth challenge blank (no dialog to show): the status tells
        assertEquals(List.of(401), chromium.statuses(local("/inbox/")));
        assertTrue(chromium.driver.findElements(By.tagName("nav")).isEmpty(), "no page of the inbox");
        assertFalse(chromium.driver.getPageSource().contains("Notifications"));
        chromium.driver.get(authenticated("/inbox/"));
        assertEquals("Notifications · gpuwatch inbox", chromium.driver.getTitle(), "the same browser, with credentials");
    }

    @Test
    void thePagesShowWhatWasSentAndReplayDeliversADeadLetter() throws Exception {
        post(notification("GpuXidError", "critical", "ml", "firing", 2));
        post(notification("GpuThermalThrottle", "warning", "web", "firing", 1));
        waitFor(() -> slack.messages().size() == 3, "three messages (critical: oncall and ml; warning: default)");
        // the next message fails for good (a Slack error no retry fixes): a dead letter
        slack.failNext(1, Failure.slackError("invalid_blocks"));
        post(notification("GpuMemoryFull", "warning", "web", "firing", 1));
        waitFor(() -> !receiver.store().deadLetters(10).isEmpty(), "a dead letter");
        post(notification("GpuThermalThrottle", "warning", "web", "resolved", 1));
        waitFor(() -> slack.messages().stream().anyMatch(m -> m.updates() > 0), "the resolve updates its message");

        var driver = chromium.driver;
        driver.get(authenticated("/inbox"));
        assertTrue(driver.getCurrentUrl().endsWith("/inbox/"), "/inbox redirects to /inbox/ for relative links");
        List<WebElement> rows = driver.findElements(By.cssSelector("table.list tbody tr"));
        assertEquals(4, rows.size());
        assertTrue(rows.get(0).getText().contains("resolved"), rows.get(0).getText());
        assertTrue(rows.get(0).getText().contains("GpuThermalThrottle"));
        assertTrue(rows.get(1).getText().contains("GpuMemoryFull") && rows.get(1).getText().contains("dead"),
                rows.get(1).getText());
        String oldest = rows.get(3).getText();
        assertTrue(oldest.contains("GpuXidError ×2") && oldest.contains("firing"), oldest);
        assertTrue(oldest.contains("oncall → oncall/slack/0") && oldest.contains("ml → ml/slack/0"), oldest);
        assertTrue(oldest.contains("alertname=GpuXidError"), "the group labels: " + oldest);
        assertTrue(java.util.regex.Pattern.compile("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC\n(just now|\\d+ s ago)")
                .matcher(oldest).find(), "a time in UTC with its age: " + oldest);
        assertEquals("rgba(179, 38, 30, 1)", rows.get(3).findElement(By.cssSelector(".badge")).getCssValue(
                "background-color"), "firing is red: the stylesheet is served and applied");
        screenshot("notifications");

        load(rows.get(3).findElement(By.linkText("GpuXidError ×2")));
        String page = driver.findElement(By.tagName("main")).getText();
        assertTrue(page.contains("oncall → oncall/slack/0") && page.contains("delivered"), page);
        assertTrue(page.contains("GPU 1 is hot") && page.contains("gpu=1"), "alerts with labels, annotations: " + page);
        assertTrue(page.contains("Started " + Times.show(STARTED, STARTED).utc() + " (5 min ago)"), page);
        assertEquals(2, driver.findElements(By.cssSelector("table.timeline tbody tr")).size(),
                "one recorded attempt per delivery");
        screenshot("notification");

        load(driver.findElement(By.partialLinkText("Dead letters")));
        assertEquals("Dead letters 1", driver.findElement(By.cssSelector("nav a.current")).getText(),
                "the nav counts the dead letters");
        List<WebElement> dead = driver.findElements(By.cssSelector("table.list tbody tr"));
        assertEquals(1, dead.size());
        assertTrue(dead.getFirst().getText().contains("invalid_blocks"), dead.getFirst().getText());
        screenshot("dead-letters");
        int before = slack.messages().size();
        // a form on another site that posts to the replay (the browser would send the credentials along) is refused
        long deadId = receiver.store().deadLetters(10).getFirst().id();
        for (var header : List.of(List.of("Sec-Fetch-Site", "cross-site"), List.of("Origin", "http://evil.example"))) {
            HttpResponse<String> forged = http.send(HttpRequest.newBuilder(
                    URI.create(local("/inbox/dead-letters/" + deadId + "/replay"))).header("Authorization", basic())
                    .header(header.get(0), header.get(1)).header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString("back=dead-letters")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(403, forged.statusCode(), header + ": " + forged.body());
        }
        assertEquals(1, receiver.store().deadLetters(10).size(), "a refused replay changes nothing");
        load(dead.getFirst().findElement(By.tagName("button")));
        assertTrue(driver.findElement(By.cssSelector(".flash")).getText().contains("replayed"),
                "back on the dead letters with the outcome");
        waitFor(() -> slack.messages().size() == before + 1, "the replayed delivery reaches Slack");
        assertTrue(slack.messages().getLast().visibleText().contains("GpuMemoryFull"));
        screenshot("dead-letters-replayed");
        driver.navigate().refresh();
        assertTrue(driver.findElements(By.cssSelector("table.list tbody tr")).isEmpty(), "no dead letter left");
        assertTrue(driver.findElements(By.cssSelector("nav .count")).isEmpty(), "nothing to count");
        // the replayed notification's timeline: dead, replayed, delivered
        driver.get(authenticated("/inbox/"));
        load(driver.findElement(By.linkText("GpuMemoryFull")));
        List<String> outcomes = driver.findElements(By.cssSelector("table.timeline tbody tr")).stream()
                .map(WebElement::getText).toList();
        assertEquals(3, outcomes.size(), outcomes.toString());
        assertTrue(outcomes.get(0).contains("dead letter") && outcomes.get(0).contains("invalid_blocks"), outcomes.get(0));
        assertTrue(outcomes.get(1).contains("replayed"), outcomes.get(1));
        assertTrue(outcomes.get(2).contains("delivered"), outcomes.get(2));
        screenshot("notification-replayed");
    }

    @Test
    void theRouteTesterAnswersForPastedLabelsAndForAPickedNotification() throws Exception {
        post(notification("GpuXidError", "critical", "ml", "firing", 1));
        waitFor(() -> slack.messages().size() == 2, "the notification delivered");
        var driver = chromium.driver;
        driver.get(authenticated("/inbox/"));
        load(driver.findElement(By.linkText("Route tester")));
        WebElement labels = driver.findElement(By.id("labels"));
        labels.sendKeys("team=\"ml\"\nenv=staging\nseverity=warning");
        load(driver.findElement(By.id("test-labels")));
        assertEquals("Goes to ml", driver.findElement(By.cssSelector("section.card h2")).getText());
        String tree = driver.findElement(By.cssSelector("table.routes")).getText();
        assertTrue(tree.contains("severity=\"critical\" (is \"warning\")"), tree);
        assertTrue(tree.contains("matched: notifies ml"), "the inheriting child chose its parent's receiver: " + tree);
        assertTrue(tree.contains("ml (inherited)"), tree);
        assertEquals("team=\"ml\"\nenv=staging\nseverity=warning", driver.findElement(By.id("labels"))
                .getDomProperty("value"), "the pasted labels stay in the form");
        screenshot("route-tester-labels");

        driver.findElement(By.id("labels")).clear();
        driver.findElement(By.id("labels")).sendKeys("{team=\"mlops\", severity=\"critical\"}");
        load(driver.findElement(By.id("test-labels")));
        assertEquals("Goes to oncall", driver.findElement(By.cssSelector("section.card h2")).getText(),
                "continue, then no other child matches (regexes are anchored: ml is not mlops)");
        assertTrue(driver.findElement(By.cssSelector("table.routes")).getText()
                .contains("team=~\"ml\" (is \"mlops\")"));

        new Select(driver.findElement(By.id("notification"))).selectByIndex(0);
        load(driver.findElement(By.id("test-notification")));
        assertEquals("Goes to oncall ml", driver.findElement(By.cssSelector("section.card h2")).getText());
        String result = driver.findElement(By.tagName("main")).getText();
        assertTrue(result.contains("oncall: oncall/slack/0") && result.contains("ml: ml/slack/0"), result);
        assertTrue(result.contains("team=ml"), "the notification's labels: " + result);
        assertTrue(new Select(driver.findElement(By.id("notification"))).getFirstSelectedOption().getText()
                .contains("GpuXidError"), "the picked notification stays selected");
        screenshot("route-tester-notification");

        driver.findElement(By.id("labels")).sendKeys("team=~\"ml\"");
        load(driver.findElement(By.id("test-labels")));
        assertTrue(driver.findElement(By.cssSelector(".flash.bad")).getText().contains("labels have values"),
                "a matcher is no label");
        assertTrue(driver.findElements(By.cssSelector("table.routes")).isEmpty(), "no route shown");
    }

    @Test
    void theSlackActionsPageListsWhoPressedWhatAndHowItEnded() throws Exception {
        var store = receiver.store();
        java.time.Instant at = STARTED.plusSeconds(60);
        var silence = store.recordAction(new NotificationStore.NewAction("{}:{alertname=\"GpuXidError\"}",
                "silence_1h", 1, "UANA", "ana", "C0ALERTS", "1733290000.000100", at, at.plusSeconds(3600),
                at.plusSeconds(60))).join().action();
        assertTrue(store.finishAction(silence.claim(), NotificationStore.ActionStatus.DONE, "6d3f2a10-silence", "",
                at.plusSeconds(1)).join());
        var ack = store.recordAction(new NotificationStore.NewAction("{}:{alertname=\"GpuFellOffTheBus\"}",
                "acknowledge", 2, "UBEN", "ben", "C0ALERTS", "1733290100.000200", at.plusSeconds(30),
                at.plusSeconds(3630), at.plusSeconds(90))).join().action();
        assertTrue(store.finishAction(ack.claim(), NotificationStore.ActionStatus.FAILED, "",
                "pagerduty: HTTP 503", at.plusSeconds(31)).join());
        var driver = chromium.driver;
        driver.get(authenticated("/inbox/"));
        load(driver.findElement(By.linkText("Slack actions")));
        List<WebElement> rows = driver.findElements(By.cssSelector("table.list tbody tr"));
        assertEquals(2, rows.size(), "both presses");
        String newest = rows.get(0).getText();
        assertTrue(newest.contains("ben (UBEN)") && newest.contains("Acknowledge") && newest.contains("failed")
                && newest.contains("pagerduty: HTTP 503"), newest);
        String oldest = rows.get(1).getText();
        assertTrue(oldest.contains("ana (UANA)") && oldest.contains("Silence 1h") && oldest.contains("done")
                && oldest.contains("6d3f2a10-silence") && oldest.contains("GpuXidError"), oldest);
        screenshot("slack-actions");
    }

    /** Alerts that started five minutes ago, so the pages (and their screenshots) show what an on-call sees. */
    private static final java.time.Instant STARTED = java.time.Instant.now().minusSeconds(300)
            .truncatedTo(java.time.temporal.ChronoUnit.SECONDS);

    private static String notification(String alert, String severity, String team, String status, int alerts) {
        String json = Payloads.notification(alert, status, alerts).replace("2025-06-01T12:00:00.123Z",
                STARTED.toString());
        return json.replace("\"commonLabels\":{\"alertname\":\"" + alert + "\",\"severity\":\"critical\"}",
                "\"commonLabels\":{\"alertname\":\"" + alert + "\",\"severity\":\"" + severity + "\",\"team\":\""
                        + team + "\"}");
    }

    /**
     * Clicks a link or a submit button and waits until the page it leads to has loaded: a click returns once the
     * event is dispatched, which may be before the navigation it starts has even begun.
     */
    private void load(WebElement target) {
        WebElement page = chromium.driver.findElement(By.tagName("html"));
        target.click();
        WebDriverWait wait = new WebDriverWait(chromium.driver, Duration.ofSeconds(30));
        wait.until(ExpectedConditions.stalenessOf(page));
        wait.until(d -> "complete".equals(chromium.driver.executeScript("return document.readyState")));
    }

    private void screenshot(String name) throws Exception {
        Optional<String> target = Optional.ofNullable(System.getProperty("inbox.screenshots"))
                .or(() -> Optional.ofNullable(System.getenv("INBOX_SCREENSHOTS"))).filter(s -> !s.isBlank());
        if (target.isEmpty()) {
            return;
        }
        Path folder = Path.of(target.get());
        Files.createDirectories(folder);
        // the whole page and no more: the window as tall as the content (Chromium shoots the viewport), then back
        var window = chromium.driver.manage().window();
        Dimension size = window.getSize();
        long content = (Long) chromium.driver.executeScript(
                "return Math.ceil(document.querySelector('main').getBoundingClientRect().bottom + window.scrollY)");
        long chrome = (Long) chromium.driver.executeScript("return window.outerHeight - window.innerHeight");
        window.setSize(new Dimension(size.getWidth(), (int) Math.max(400, Math.min(content + chrome, 4000))));
        Files.write(folder.resolve(name + ".png"), chromium.driver.getScreenshotAs(OutputType.BYTES));
        window.setSize(size);
    }

    private void post(String body) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(local("/api/v1/alerts")))
                .header("Content-Type", "application/json").header("Authorization", basic())
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
    }

    private HttpResponse<String> get(String path, Optional<String> authorization) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(local(path)));
        authorization.ifPresent(a -> b.header("Authorization", a));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String basic() {
        return "Basic " + Base64.getEncoder().encodeToString((USER + ":" + PASSWORD).getBytes(StandardCharsets.UTF_8));
    }

    private String local(String path) {
        return "http://127.0.0.1:" + receiver.port() + path;
    }

    /** Credentials in the URL: Chromium answers the 401 with them and keeps them for the rest of the inbox. */
    private String authenticated(String path) {
        return "http://" + USER + ":" + PASSWORD.replace(" ", "%20") + "@127.0.0.1:" + receiver.port() + path;
    }

    private static void waitFor(BooleanSupplier condition, String what) throws InterruptedException {
        Polling.await(what, Duration.ofSeconds(30), condition);
    }
}
