package dev.gpuwatch.exporter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import at.favre.lib.crypto.bcrypt.BCrypt;
import dev.gpuwatch.probe.simulated.Scenario;
import dev.gpuwatch.probe.simulated.SimulatedFleet;
import dev.gpuwatch.probe.simulated.SimulationOptions;
import dev.gpuwatch.web.WebConfig;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Base64;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code /-/simulated/scenario}: the simulated fleet's scenario switched over HTTP while the exporter runs. */
class ScenarioEndpointTest {

    private static final String PATH = "/-/simulated/scenario";
    private static final String VALID = "idle, idle-allocated, steady, diurnal, memory-leak, thermal-throttling,"
            + " power-throttling, ecc-storm, xid79-gpu-lost, xid-errors, process-churn, input-starved, memory-bound";

    /** The fleet's time, moved by the test: thermal throttling starts 45 s after its fault does. */
    static final class ManualClock implements InstantSource {
        private volatile Instant now = Instant.parse("2025-01-01T00:00:00Z");

        @Override
        public Instant instant() {
            return now;
        }

        void advance(Duration d) {
            now = now.plus(d);
        }
    }

    private static SimulatedFleet fleet(InstantSource clock) {
        return SimulatedFleet.open(SimulationOptions.defaults().withDevices(2).withScenario(Scenario.STEADY)
                .withFaultAfter(Duration.ZERO).withClock(clock));
    }

    private static Exporter start(SimulatedFleet fleet, WebConfig web) throws Exception {
        Exporter exporter = TestExporters.start(TestExporters.loopback("--gpu.sample-interval=100ms"),
                web, fleet);
        TestExporters.awaitSample(exporter);
        return exporter;
    }

    private static HttpResponse<String> post(Exporter exporter, String pathAndQuery, String form, String... headers)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + exporter.port() + pathAndQuery))
                .timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return TestExporters.HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Scrapes until {@code done} holds for the body (the sampler publishes asynchronously); fails after 30 s. */
    private static String scrapeUntil(Exporter exporter, Predicate<String> done, String what) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            String body = TestExporters.get(exporter, "/metrics").body();
            if (done.test(body)) {
                return body;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no scrape with " + what + " within 30 s; last one:\n" + body);
            }
            Thread.sleep(20);
        }
    }

    private static String thermal(String body) {
        List<String> lines = TestGpus.lines(body, "reason=\"hw_thermal_slowdown\"");
        return String.join("\n", lines.stream().filter(l -> l.startsWith("gpu_clock_event_active{gpu=\"1\"")).toList());
    }

    @Test
    void switchOverHttpThenAScrapeShowsTheNewScenario() throws Exception {
        ManualClock clock = new ManualClock();
        SimulatedFleet fleet = fleet(clock);
        try (Exporter exporter = start(fleet, WebConfig.none())) {
            HttpResponse<String> now = TestExporters.get(exporter, PATH);
            assertEquals(200, now.statusCode());
            assertEquals("steady\n", now.body());
            assertTrue(thermal(TestExporters.get(exporter, "/metrics").body()).endsWith(" 0.0"));
            String uuidLine = TestGpus.lines(TestExporters.get(exporter, "/metrics").body(), "gpu_info{").getLast();

            HttpResponse<String> switched = post(exporter, PATH, "scenario=thermal-throttling");
            assertEquals(200, switched.statusCode(), switched.body());
            assertEquals("thermal-throttling\n", switched.body());
            assertEquals("text/plain; charset=utf-8", switched.headers().firstValue("Content-Type").orElseThrow());
            assertEquals(Scenario.THERMAL_THROTTLING, fleet.scenario());
            assertEquals("thermal-throttling\n", TestExporters.get(exporter, PATH).body());

            // fault after 0 s: the temperature ramps for 45 s, then the thermal slowdown reasons are active
            clock.advance(Duration.ofSeconds(46));
            String body = scrapeUntil(exporter, b -> thermal(b).endsWith(" 1.0"), "hw_thermal_slowdown 1 on GPU 1");
            String uuid = fleet.sample().get(1).uuid().orElseThrow();
            assertEquals("gpu_clock_event_active{gpu=\"1\",reason=\"hw_thermal_slowdown\",uuid=\"" + uuid + "\"} 1.0",
                    thermal(body));
            assertTrue(TestGpus.lines(body, "reason=\"hw_thermal_slowdown\"").stream()
                    .filter(l -> l.contains("gpu=\"0\"")).allMatch(l -> l.endsWith(" 0.0")), "only the faulty GPU");
            assertEquals(uuidLine, TestGpus.lines(body, "gpu_info{").getLast(), "the same GPU, not a new exporter");

            // and back, as a query parameter this time: the fault clears at once
            HttpResponse<String> back = post(exporter, PATH + "?scenario=steady", "");
            assertEquals(200, back.statusCode(), back.body());
            assertEquals("steady\n", back.body());
            scrapeUntil(exporter, b -> thermal(b).endsWith(" 0.0"), "hw_thermal_slowdown 0 on GPU 1 again");
        }
    }

    @Test
    void theLandingPageShowsTheScenarioNowAndHowToSwitchIt() throws Exception {
        try (Exporter exporter = start(fleet(InstantSource.system()), WebConfig.none())) {
            String page = TestExporters.get(exporter, "/").body();
            assertTrue(page.contains("Scenario now: steady."), page);
            assertTrue(page.contains("POST scenario=NAME to /-/simulated/scenario"), page);
            assertTrue(page.contains(VALID), page);

            assertEquals(200, post(exporter, PATH, "scenario=ECC_STORM").statusCode(), "labels parse like the flag");
            page = TestExporters.get(exporter, "/").body();
            assertTrue(page.contains("Scenario now: ecc-storm."), page);
            assertTrue(page.contains("scenario ecc-storm, seed 42"), "the fleet's description is live too:\n" + page);
        }
    }

    @Test
    void anUnknownOrMissingScenarioIs400NamingTheValidOnes() throws Exception {
        SimulatedFleet fleet = fleet(InstantSource.system());
        try (Exporter exporter = start(fleet, WebConfig.none())) {
            HttpResponse<String> bad = post(exporter, PATH, "scenario=meltdown");
            assertEquals(400, bad.statusCode());
            assertEquals("unknown scenario 'meltdown'; valid scenarios: " + VALID + "\n", bad.body());

            HttpResponse<String> none = post(exporter, PATH, "");
            assertEquals(400, none.statusCode());
            assertTrue(none.body().startsWith("no scenario given;"), none.body());
            assertTrue(none.body().endsWith("valid scenarios: " + VALID + "\n"), none.body());

            HttpResponse<String> two = post(exporter, PATH + "?scenario=idle", "scenario=ecc-storm");
            assertEquals(400, two.statusCode());
            assertTrue(two.body().startsWith("more than one scenario given;"), two.body());

            HttpResponse<String> put = TestExporters.HTTP.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + exporter.port() + PATH))
                    .PUT(HttpRequest.BodyPublishers.ofString("scenario=idle")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(405, put.statusCode());
            assertEquals("GET, HEAD, POST", put.headers().firstValue("Allow").orElseThrow());

            assertEquals(Scenario.STEADY, fleet.scenario(), "nothing above switched");
        }
    }

    @Test
    void withoutTheSimulatedFleetItIs404() throws Exception {
        try (Exporter exporter = TestExporters.start(new TestGpus.FakeProbe(List.of(TestGpus.full(0))))) {
            HttpResponse<String> get = TestExporters.get(exporter, PATH);
            assertEquals(404, get.statusCode());
            assertTrue(get.body().contains("only the simulated GPU backend"), get.body());
            assertEquals(404, post(exporter, PATH, "scenario=thermal-throttling").statusCode());
            assertFalse(TestExporters.get(exporter, "/").body().contains(PATH), "no hint on a real node's page");
            assertEquals(200, TestExporters.get(exporter, "/-/healthy").statusCode(), "the other paths as before");
        }
    }

    @Test
    void itSitsBehindTheSameBasicAuthAsEveryPath(@TempDir Path dir) throws Exception {
        String hash = BCrypt.with(BCrypt.Version.VERSION_2Y).hashToString(4, "s3cret".toCharArray());
        Path file = Files.writeString(dir.resolve("web.yml"), "basic_auth_users:\n  alice: \"" + hash + "\"\n");
        SimulatedFleet fleet = fleet(InstantSource.system());
        try (Exporter exporter = TestExporters.start(TestExporters.loopback(), WebConfig.load(file), fleet)) {
            assertEquals(401, TestExporters.get(exporter, PATH).statusCode());
            assertEquals(401, post(exporter, PATH, "scenario=idle").statusCode());
            assertEquals(401, post(exporter, PATH, "scenario=idle", "Authorization", basic("alice", "wrong")).statusCode());
            assertEquals(Scenario.STEADY, fleet.scenario());

            HttpResponse<String> ok = post(exporter, PATH, "scenario=idle", "Authorization", basic("alice", "s3cret"));
            assertEquals(200, ok.statusCode());
            assertEquals(Scenario.IDLE, fleet.scenario());
        }
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }
}
