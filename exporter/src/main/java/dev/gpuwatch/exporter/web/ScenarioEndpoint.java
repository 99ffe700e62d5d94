package dev.gpuwatch.exporter.web;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.gpuwatch.probe.simulated.Scenario;
import dev.gpuwatch.probe.simulated.SimulatedFleet;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.logging.Logger;
import java.util.stream.Collectors;

/**
 * {@code /-/simulated/scenario}: switches the simulated fleet's scenario at run time, so a demo or a test can start
 * and clear a fault without restarting the exporter (no missed scrapes, same counters).
 *
 * <ul>
 *   <li>{@code GET}: 200, the current scenario's label on one line.
 *   <li>{@code POST} with {@code scenario=<label>} as a query parameter or form field: switches
 *       ({@link SimulatedFleet#switchScenario}: the fault timer restarts, counters keep their values), asks the
 *       sampler for a fresh sample, logs one line and answers 200 with the new label; 400 naming the valid
 *       scenarios for a missing or unknown one.
 *   <li>Without the simulated fleet (NVML, or no backend): 404 for every method, so a real node never
 *       pretends it can inject faults.
 * </ul>
 *
 * It sits in front of {@link Endpoints} as the server's default handler, so TLS and basic auth from
 * {@code --web.config.file} apply as to every other path.
 */
public final class ScenarioEndpoint {
    public static final String PATH = "/-/simulated/scenario";
    private static final Logger LOG = Logger.getLogger("exporter");
    /** A form with one short label needs far less; more is not a scenario switch. */
    private static final int MAX_BODY_BYTES = 4096;
    /** Longest input echoed back in a 400: labels are short, and the answer must stay small. */
    private static final int MAX_ECHO_CHARS = 64;

    private final SimulatedFleet fleet;
    private final Runnable resample;

    /**
     * @param fleet the probe the exporter samples
     * @param resample asks the sampler for a sample now, so the next scrape shows the switch
     */
    public ScenarioEndpoint(SimulatedFleet fleet, Runnable resample) {
        this.fleet = Objects.requireNonNull(fleet, "fleet");
        this.resample = Objects.requireNonNull(resample, "resample");
    }

    /** The valid labels, comma-separated, for messages and the landing page. */
    static String validLabels() {
        return Arrays.stream(Scenario.values()).map(Scenario::label).collect(Collectors.joining(", "));
    }

    /**
     * The landing page's lines for the simulated fleet followed by {@code others}: what it is (with the scenario
     * running now) and how to switch it. A live view, read again on every request, because the scenario changes
     * while the page's other facts do not.
     */
    public List<String> landingNotes(List<String> others) {
        List<String> rest = List.copyOf(others);
        return new AbstractList<>() {
            @Override
            public String get(int index) {
                return switch (index) {
                    case 0 -> fleet.description();
                    case 1 -> "Scenario now: " + fleet.scenario().label() + ". Switch it without a restart: POST"
                            + " scenario=NAME to " + PATH + ", e.g. curl -d scenario=thermal-throttling"
                            + " http://HOST:PORT" + PATH + " (a fault starts " + fleet.options().faultAfter().toSeconds()
                            + "s after the switch, on GPU " + fleet.faultyGpuIndex() + "). Scenarios: " + validLabels() + ".";
                    default -> rest.get(index - 2);
                };
            }

            @Override
            public int size() {
                return rest.size() + 2;
            }
        };
    }

    /**
     * The server's default handler: {@link #PATH} is served here (404 when {@code endpoint} is empty, i.e. the
     * backend is not the simulated fleet), every other path by {@code rest}.
     */
    public static HttpHandler inFrontOf(Optional<ScenarioEndpoint> endpoint, HttpHandler rest) {
        Objects.requireNonNull(rest, "rest");
        return exchange -> {
            if (!exchange.getRequestURI().getPath().equals(PATH)) {
                rest.handle(exchange);
            } else if (endpoint.isPresent()) {
                endpoint.get().handle(exchange);
            } else {
                try (exchange; InputStream in = exchange.getRequestBody()) {
                    in.transferTo(OutputStream.nullOutputStream());
                    send(exchange, 404, "not found: only the simulated GPU backend (--gpu.backend=simulated) has a"
                            + " scenario to switch; see / for the endpoints\n");
                }
            }
        };
    }

    void handle(HttpExchange exchange) throws IOException {
        try (exchange; InputStream in = exchange.getRequestBody()) {
            byte[] body = in.readNBytes(MAX_BODY_BYTES + 1);
            in.transferTo(OutputStream.nullOutputStream());
            switch (exchange.getRequestMethod()) {
                case "GET", "HEAD" -> send(exchange, 200, fleet.scenario().label() + "\n");
                case "POST" -> {
                    if (body.length > MAX_BODY_BYTES) {
                        send(exchange, 413, "request body over " + MAX_BODY_BYTES + " bytes; send scenario=<name>\n");
                        return;
                    }
                    post(exchange, new String(body, StandardCharsets.UTF_8));
                }
                default -> {
                    exchange.getResponseHeaders().set("Allow", "GET, HEAD, POST");
                    send(exchange, 405, "method not allowed: GET shows the scenario, POST scenario=<name> switches it\n");
                }
            }
        }
    }

    private void post(HttpExchange exchange, String body) throws IOException {
        Set<String> asked = new LinkedHashSet<>();
        asked.addAll(values(exchange.getRequestURI().getRawQuery(), "scenario"));
        asked.addAll(values(body, "scenario"));
        if (asked.size() != 1) {
            send(exchange, 400, (asked.isEmpty() ? "no scenario given" : "more than one scenario given")
                    + "; POST scenario=<name> as a query parameter or form field; valid scenarios: " + validLabels() + "\n");
            return;
        }
        String text = asked.iterator().next();
        Scenario next;
        try {
            next = Scenario.parse(text);
        } catch (IllegalArgumentException e) {
            String echo = text.length() > MAX_ECHO_CHARS ? text.substring(0, MAX_ECHO_CHARS) + "..." : text;
            send(exchange, 400, "unknown scenario '" + echo + "'; valid scenarios: " + validLabels() + "\n");
            return;
        }
        Scenario previous;
        synchronized (fleet) { // previous and next in one step, so two concurrent switches log a true history
            previous = fleet.scenario();
            fleet.switchScenario(next);
        }
        resample.run();
        String who = Optional.ofNullable(exchange.getPrincipal()).map(p -> " by " + p.getUsername()).orElse("");
        LOG.info("simulated fleet switched from scenario " + previous.label() + " to " + next.label() + who
                + " from " + exchange.getRemoteAddress().getAddress().getHostAddress()
                + (next.isFault() ? "; its fault starts in " + fleet.options().faultAfter().toSeconds() + "s on GPU "
                        + fleet.faultyGpuIndex() : ""));
        send(exchange, 200, next.label() + "\n");
    }

    /** Every value of {@code name} in an {@code application/x-www-form-urlencoded} string (a query or a form). */
    static List<String> values(String encoded, String name) {
        List<String> out = new ArrayList<>();
        if (encoded == null || encoded.isBlank()) {
            return out;
        }
        for (String pair : encoded.strip().split("&")) {
            int eq = pair.indexOf('=');
            String key = eq < 0 ? pair : pair.substring(0, eq);
            if (decode(key).equals(name)) {
                out.add(eq < 0 ? "" : decode(pair.substring(eq + 1)));
            }
        }
        return out;
    }

    private static String decode(String s) {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) { // a malformed %-escape: keep it as typed, it will not match anything
            return s;
        }
    }

    private static void send(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        exchange.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }
}
