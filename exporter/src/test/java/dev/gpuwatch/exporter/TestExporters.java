package dev.gpuwatch.exporter;

import dev.gpuwatch.exporter.config.ExporterConfig;
import dev.gpuwatch.web.WebConfig;
import dev.gpuwatch.probe.GpuProbe;
import dev.gpuwatch.probe.GpuProbes;
import dev.gpuwatch.probe.ProbeOpening;
import dev.gpuwatch.web.WebConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.stream.Stream;

/** Starts real exporters on 127.0.0.1 and a free port, and talks to them over HTTP. */
public final class TestExporters {
    private TestExporters() {}

    public static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** The configuration the command line {@code flags} gives, served on 127.0.0.1 and a free port. */
    public static ExporterConfig loopback(String... flags) throws Exception {
        return ExporterConfig.parse(Stream.concat(Stream.of("--web.listen-address=127.0.0.1:0"), Stream.of(flags))
                .toArray(String[]::new));
    }

    public static Exporter start(GpuProbe probe) throws Exception {
        return start(loopback(), WebConfig.none(), probe);
    }

    public static Exporter start(ExporterConfig config, WebConfig web, GpuProbe probe) throws Exception {
        return Exporter.start(config, web, c -> new GpuProbes.Result(new ProbeOpening.Opened(probe), List.of()),
                ExporterMain::collectors, InstantSource.system());
    }

    /** Starts with the production opener: what {@code --gpu.backend} and friends in {@code config} select. */
    public static Exporter startBackend(ExporterConfig config) throws Exception {
        return Exporter.start(config, WebConfig.none(), ExporterMain::openBackend, ExporterMain::collectors, InstantSource.system());
    }

    public static HttpResponse<String> get(Exporter exporter, String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + exporter.port() + path))
                .timeout(Duration.ofSeconds(10));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Waits (up to 30 s) until the exporter has published a first sample. */
    public static void awaitSample(Exporter exporter) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (exporter.sampler().orElseThrow().state().lastAttemptEnd().isEmpty()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no sample within 30 s");
            }
            Thread.sleep(10);
        }
    }
}
