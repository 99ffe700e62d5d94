package dev.gpuwatch.testkit.modelserver;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.gpuwatch.probe.GpuSnapshot;
import dev.gpuwatch.probe.simulated.Scenario;
import dev.gpuwatch.probe.simulated.SimulatedFleet;
import dev.gpuwatch.probe.simulated.SimulationOptions;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A model server whose load follows the simulated GPU fleet: vLLM-shaped ({@code /metrics} with V1 names and an
 * {@code engine} label) or Triton-shaped ({@code /metrics}, {@code /v2/models/stats}, {@code /v2/repository/index},
 * {@code /v2/health/ready}, {@code /v2}). Model {@code i} runs on GPU {@code i mod devices}.
 *
 * <p>Deterministic: the server advances its own copy of the fleet in whole seconds from its start, so what it
 * reports at a given second depends only on the scenario, the seed and that second. At GPU utilisation
 * {@code u}: {@code 64u} requests run, {@code 3000(u - 0.9)} wait once {@code u > 0.9} (300 at full load), the KV
 * cache is {@code 0.15 + 0.85u} full (at most 0.99), and each second {@code 20u} requests finish with latencies
 * that grow with {@code u}.
 *
 * <pre>
 * java -cp testkit/target/gpuwatch-testkit.jar dev.gpuwatch.testkit.modelserver.SimulatedModelServer \
 *     --web.listen-address=127.0.0.1:8000 --kind=vllm --gpu.simulated.scenario=steady --model=llama-70b
 * </pre>
 */
public final class SimulatedModelServer implements AutoCloseable {
    /** Which server to imitate. */
    public enum Kind { VLLM, TRITON }

    private static final double[] E2E = {1, 2.5, 5, 10, 20, 40, Double.POSITIVE_INFINITY};
    private static final double[] TTFT = {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, Double.POSITIVE_INFINITY};
    private static final double[] ITL = {0.01, 0.025, 0.05, 0.1, Double.POSITIVE_INFINITY};
    private static final double[] QUEUE = {0.01, 0.1, 0.5, 1, 5, Double.POSITIVE_INFINITY};

    private final Kind kind;
    private final List<Model> models = new ArrayList<>();
    private final SimulatedFleet fleet;
    private final AtomicReference<Instant> fleetTime;
    private final InstantSource clock;
    private final Instant start;
    private final HttpServer http;
    private long steps;
    private List<GpuSnapshot> lastSample = List.of();

    /** The running state of one model, advanced one simulated second at a time. */
    private static final class Model {
        final String name;
        final int gpu;
        double running;
        double waiting;
        double kv;
        long finished;
        long cancelled;
        long preemptions;
        long promptTokens;
        long generationTokens;
        final Histo e2e = new Histo(E2E);
        final Histo ttft = new Histo(TTFT);
        final Histo itl = new Histo(ITL);
        final Histo queue = new Histo(QUEUE);

        Model(String name, int gpu) {
            this.name = name;
            this.gpu = gpu;
        }

        void step(double u) {
            running = Math.round(u * 64);
            waiting = u > 0.9 ? Math.round((u - 0.9) * 3000) : 0;
            kv = Math.min(0.99, 0.15 + 0.85 * u);
            long done = Math.round(u * 20);
            long tokens = Math.round(u * 2500);
            finished += done;
            cancelled += u > 0.9 ? 1 : 0;
            preemptions += u > 0.95 ? 1 : 0;
            promptTokens += done * 512;
            generationTokens += tokens;
            e2e.observe(2 + 10 * u * u, done);
            ttft.observe(0.04 + 2 * Math.max(0, u - 0.8), done);
            itl.observe(0.008 + 0.04 * u, tokens);
            queue.observe(waiting > 0 ? 0.5 + waiting / 100 : 0.005, done);
        }
    }

    /** A histogram with fixed bounds whose observations arrive in batches of equal values. */
    private static final class Histo {
        final double[] bounds;
        final long[] counts;
        double sum;

        Histo(double[] bounds) {
            this.bounds = bounds;
            this.counts = new long[bounds.length];
        }

        void observe(double value, long n) {
            for (int i = 0; i < bounds.length; i++) {
                if (value <= bounds[i]) {
                    counts[i] += n;
                    break;
                }
            }
            sum += value * n;
        }

        long count() {
            long c = 0;
            for (long x : counts) {
                c += x;
            }
            return c;
        }
    }

    private SimulatedModelServer(Kind kind, InetSocketAddress address, List<String> modelNames, Scenario scenario,
            InstantSource clock) throws IOException {
        this.kind = kind;
        this.clock = clock;
        this.start = clock.instant();
        this.fleetTime = new AtomicReference<>(start);
        this.fleet = SimulatedFleet.open(SimulationOptions.defaults().withScenario(scenario).withClock(fleetTime::get));
        int devices = fleet.options().devices();
        for (int i = 0; i < modelNames.size(); i++) {
            models.add(new Model(modelNames.get(i), i % devices));
        }
        http = HttpServer.create(address, 64);
        http.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        http.createContext("/", this::handle);
        http.start();
    }

    /** Starts serving on {@code address} (port 0 for any free port). */
    public static SimulatedModelServer start(Kind kind, InetSocketAddress address, List<String> models,
            Scenario scenario, InstantSource clock) throws IOException {
        return new SimulatedModelServer(kind, address, List.copyOf(models), scenario, clock);
    }

    public int port() {
        return http.getAddress().getPort();
    }

    @Override
    public void close() {
        http.stop(0);
        fleet.close();
    }

    /** Advances the simulation to the current second of the clock. */
    private synchronized void advance() {
        long target = Duration.between(start, clock.instant()).toSeconds();
        while (steps <= target) {
            fleetTime.set(start.plusSeconds(steps));
            lastSample = fleet.sample();
            for (Model m : models) {
                m.step(utilisation(m.gpu));
            }
            steps++;
        }
    }

    private double utilisation(int gpu) {
        return lastSample.stream().filter(g -> g.index() == gpu && g.isUp()).findFirst()
                .flatMap(g -> g.gpuUtilization().isPresent() ? java.util.Optional.of(g.gpuUtilization().getAsDouble())
                        : java.util.Optional.empty())
                .orElse(0.0);
    }

    private long gpuMemory(int gpu) {
        return lastSample.stream().filter(g -> g.index() == gpu).findFirst()
                .flatMap(GpuSnapshot::processes).orElse(List.of()).stream()
                .mapToLong(p -> p.usedMemoryBytes().orElse(0)).sum();
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            ex.getRequestBody().readAllBytes();
            advance();
            String path = ex.getRequestURI().getPath();
            String method = ex.getRequestMethod();
            String body;
            String type = "application/json";
            synchronized (this) {
                if (path.equals("/metrics") && method.equals("GET")) {
                    body = kind == Kind.VLLM ? vllmMetrics() : tritonMetrics();
                    type = "text/plain; version=0.0.4; charset=utf-8";
                } else if (kind == Kind.VLLM && path.equals("/v1/models")) {
                    body = "{\"object\":\"list\",\"data\":[" + String.join(",", models.stream()
                            .map(m -> "{\"id\":\"" + m.name + "\",\"object\":\"model\",\"owned_by\":\"vllm\"}").toList()) + "]}";
                } else if (kind == Kind.VLLM && path.equals("/health")) {
                    body = "";
                } else if (kind == Kind.TRITON && path.equals("/v2")) {
                    body = "{\"name\":\"triton\",\"version\":\"2.50.0\",\"extensions\":[\"classification\",\"model_repository\",\"statistics\"]}";
                } else if (kind == Kind.TRITON && path.equals("/v2/health/ready")) {
                    body = "";
                } else if (kind == Kind.TRITON && path.equals("/v2/models/stats") && method.equals("GET")) {
                    body = tritonStats();
                } else if (kind == Kind.TRITON && path.equals("/v2/repository/index") && method.equals("POST")) {
                    body = "[" + String.join(",", models.stream()
                            .map(m -> "{\"name\":\"" + m.name + "\",\"version\":\"1\",\"state\":\"READY\"}").toList()) + "]";
                } else {
                    ex.sendResponseHeaders(404, -1);
                    return;
                }
            }
            byte[] b = body.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", type);
            ex.sendResponseHeaders(200, b.length == 0 ? -1 : b.length);
            if (b.length > 0) {
                try (OutputStream out = ex.getResponseBody()) {
                    out.write(b);
                }
            }
        }
    }

    private String vllmMetrics() {
        StringBuilder s = new StringBuilder();
        family(s, "vllm:num_requests_running", "gauge", "Number of requests in model execution batches.",
                m -> line(s, "vllm:num_requests_running", m, "", m.running));
        family(s, "vllm:num_requests_waiting", "gauge", "Number of requests waiting to be processed.",
                m -> line(s, "vllm:num_requests_waiting", m, "", m.waiting));
        family(s, "vllm:kv_cache_usage_perc", "gauge", "KV-cache usage. 1 means 100 percent usage.",
                m -> line(s, "vllm:kv_cache_usage_perc", m, "", m.kv));
        family(s, "vllm:num_preemptions_total", "counter", "Cumulative number of preemption from the engine.",
                m -> line(s, "vllm:num_preemptions_total", m, "", m.preemptions));
        family(s, "vllm:prompt_tokens_total", "counter", "Number of prefill tokens processed.",
                m -> line(s, "vllm:prompt_tokens_total", m, "", m.promptTokens));
        family(s, "vllm:generation_tokens_total", "counter", "Number of generation tokens processed.",
                m -> line(s, "vllm:generation_tokens_total", m, "", m.generationTokens));
        family(s, "vllm:request_success_total", "counter", "Count of successfully processed requests.", m -> {
            line(s, "vllm:request_success_total", m, "finished_reason=\"stop\",", m.finished - m.finished / 10);
            line(s, "vllm:request_success_total", m, "finished_reason=\"length\",", m.finished / 10);
            line(s, "vllm:request_success_total", m, "finished_reason=\"abort\",", m.cancelled);
        });
        histogram(s, "vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.", m -> m.e2e);
        histogram(s, "vllm:request_queue_time_seconds", "Histogram of time spent in WAITING phase for request.", m -> m.queue);
        histogram(s, "vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", m -> m.ttft);
        histogram(s, "vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", m -> m.itl);
        return s.toString();
    }

    private void family(StringBuilder s, String name, String type, String help, java.util.function.Consumer<Model> each) {
        s.append("# HELP ").append(name).append(' ').append(help).append('\n');
        s.append("# TYPE ").append(name).append(' ').append(type).append('\n');
        models.forEach(each);
    }

    private static void line(StringBuilder s, String name, Model m, String extraLabels, double value) {
        s.append(name).append("{engine=\"0\",").append(extraLabels).append("model_name=\"").append(m.name).append("\"} ")
                .append(number(value)).append('\n');
    }

    private void histogram(StringBuilder s, String name, String help, java.util.function.Function<Model, Histo> of) {
        s.append("# HELP ").append(name).append(' ').append(help).append('\n');
        s.append("# TYPE ").append(name).append(" histogram\n");
        for (Model m : models) {
            Histo h = of.apply(m);
            String labels = "engine=\"0\",model_name=\"" + m.name + "\"";
            s.append(name).append("_sum{").append(labels).append("} ").append(number(h.sum)).append('\n');
            long cumulative = 0;
            for (int i = 0; i < h.bounds.length; i++) {
                cumulative += h.counts[i];
                String le = Double.isInfinite(h.bounds[i]) ? "+Inf" : number(h.bounds[i]);
                s.append(name).append("_bucket{engine=\"0\",le=\"").append(le).append("\",model_name=\"").append(m.name)
                        .append("\"} ").append(number(cumulative)).append('\n');
            }
            s.append(name).append("_count{").append(labels).append("} ").append(number(h.count())).append('\n');
        }
    }

    private String tritonMetrics() {
        StringBuilder s = new StringBuilder();
        s.append("# HELP nv_inference_request_success Number of successful inference requests, all batch sizes\n");
        s.append("# TYPE nv_inference_request_success counter\n");
        for (Model m : models) {
            s.append("nv_inference_request_success{model=\"").append(m.name).append("\",version=\"1\"} ").append(m.finished).append('\n');
        }
        s.append("# HELP nv_inference_request_failure Number of failed inference requests, all batch sizes\n");
        s.append("# TYPE nv_inference_request_failure counter\n");
        for (Model m : models) {
            for (String reason : new String[] {"REJECTED", "CANCELED", "BACKEND", "OTHER"}) {
                s.append("nv_inference_request_failure{model=\"").append(m.name).append("\",reason=\"").append(reason)
                        .append("\",version=\"1\"} ").append(reason.equals("CANCELED") ? m.cancelled : 0).append('\n');
            }
        }
        s.append("# HELP nv_inference_pending_request_count Instantaneous number of pending requests awaiting execution per-model.\n");
        s.append("# TYPE nv_inference_pending_request_count gauge\n");
        for (Model m : models) {
            s.append("nv_inference_pending_request_count{model=\"").append(m.name).append("\",version=\"1\"} ")
                    .append((long) m.waiting).append('\n');
        }
        s.append("# HELP nv_inference_request_duration_us Cumulative inference request duration in microseconds\n");
        s.append("# TYPE nv_inference_request_duration_us counter\n");
        for (Model m : models) {
            s.append("nv_inference_request_duration_us{model=\"").append(m.name).append("\",version=\"1\"} ")
                    .append(Math.round(m.e2e.sum * 1e6)).append('\n');
        }
        return s.toString();
    }

    private String tritonStats() {
        List<String> stats = new ArrayList<>();
        for (Model m : models) {
            stats.add(String.format(Locale.ROOT, "{\"name\":\"%s\",\"version\":\"1\",\"last_inference\":%d,"
                    + "\"inference_count\":%d,\"execution_count\":%d,\"inference_stats\":{"
                    + "\"success\":{\"count\":%d,\"ns\":%d},\"fail\":{\"count\":%d,\"ns\":0},"
                    + "\"queue\":{\"count\":%d,\"ns\":%d}},\"batch_stats\":[],"
                    + "\"memory_usage\":[{\"type\":\"GPU\",\"id\":%d,\"byte_size\":%d}]}",
                    m.name, start.plusSeconds(steps).toEpochMilli(), m.finished, m.finished, m.e2e.count(),
                    Math.round(m.e2e.sum * 1e9), m.cancelled, m.queue.count(), Math.round(m.queue.sum * 1e9),
                    m.gpu, gpuMemory(m.gpu)));
        }
        return "{\"model_stats\":[" + String.join(",", stats) + "]}";
    }

    private static String number(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? (long) v + ".0" : Double.toString(v);
    }

    /** Flags: --web.listen-address, --kind, --gpu.simulated.scenario, --model, --models (number of models). */
    public static void main(String[] args) throws IOException {
        String listen = "127.0.0.1:8000";
        Kind kind = Kind.VLLM;
        String scenario = "steady";
        String model = "";
        int count = 1;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String value = a.contains("=") ? a.substring(a.indexOf('=') + 1) : i + 1 < args.length ? args[++i] : "";
            switch (a.contains("=") ? a.substring(0, a.indexOf('=')) : a) {
                case "--web.listen-address" -> listen = value;
                case "--kind" -> kind = Kind.valueOf(value.toUpperCase(Locale.ROOT));
                case "--gpu.simulated.scenario" -> scenario = value;
                case "--model" -> model = value;
                case "--models" -> count = Integer.parseInt(value);
                default -> {
                    System.err.println("simulated-model-server: unknown flag " + a
                            + " (flags: --web.listen-address, --kind vllm|triton, --gpu.simulated.scenario, --model, --models)");
                    System.exit(2);
                }
            }
        }
        if (model.isEmpty()) {
            model = kind == Kind.VLLM ? "llama-70b" : "ensemble";
        }
        List<String> names = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            names.add(i == 0 ? model : model + "-" + (i + 1));
        }
        int colon = listen.lastIndexOf(':');
        String host = colon <= 0 ? "0.0.0.0" : listen.substring(0, colon);
        InetSocketAddress address = new InetSocketAddress(host, Integer.parseInt(listen.substring(colon + 1)));
        SimulatedModelServer s = start(kind, address, names, Scenario.parse(scenario), InstantSource.system());
        System.out.println("simulated " + kind.name().toLowerCase(Locale.ROOT) + " serving " + names.size()
                + " model(s) on " + host + ":" + s.port() + " (scenario " + scenario + ")");
    }
}
