package dev.gpuwatch.exporter.modelserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gpuwatch.exporter.modelserver.adapter.Fetcher;
import dev.gpuwatch.exporter.modelserver.adapter.PollFailure;
import dev.gpuwatch.exporter.modelserver.exposition.Exposition;
import dev.gpuwatch.exporter.modelserver.exposition.ParseException;
import dev.gpuwatch.exporter.modelserver.exposition.TextFormat;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Answers an adapter from files: {@code metrics.txt} for the Prometheus endpoint, {@code GET_v2_models_stats.json}
 * for {@code GET /v2/models/stats} (query strings dropped). A missing file answers like a 404.
 */
final class FixtureFetcher implements Fetcher {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Path dir;

    FixtureFetcher(Path dir) {
        this.dir = dir;
    }

    @Override
    public Exposition metrics() throws PollFailure {
        try {
            return TextFormat.parse(read("metrics.txt"), 10_000);
        } catch (ParseException | TextFormat.TooManySeriesException e) {
            throw new PollFailure(PollFailure.Reason.PARSE_ERROR, e.getMessage());
        }
    }

    @Override
    public JsonNode getJson(String path) throws PollFailure {
        return json("GET", path);
    }

    @Override
    public JsonNode postJson(String path, String jsonBody) throws PollFailure {
        return json("POST", path);
    }

    private JsonNode json(String method, String path) throws PollFailure {
        String file = method + path.split("\\?")[0].replace('/', '_') + ".json";
        try {
            return JSON.readTree(read(file));
        } catch (IOException e) {
            throw new PollFailure(PollFailure.Reason.PARSE_ERROR, e.getMessage());
        }
    }

    private String read(String file) throws PollFailure {
        Path p = dir.resolve(file);
        if (!Files.exists(p)) {
            throw new PollFailure(PollFailure.Reason.HTTP_STATUS, file + ": 404");
        }
        try {
            return Files.readString(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
