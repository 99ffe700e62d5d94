package dev.gpuwatch.exporter.modelserver.adapter;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gpuwatch.exporter.modelserver.exposition.Exposition;

/**
 * What an adapter may ask of its target during one poll. Implementations enforce the poll's deadline, the
 * response size limit and the series limit, and turn every failure into a {@link PollFailure} with its reason, so
 * adapters contain only the mapping from a server's internals onto the {@code inference_*} family.
 */
public interface Fetcher {

    /** GET of the target's Prometheus endpoint ({@code metrics_url}), parsed. */
    Exposition metrics() throws PollFailure;

    /** GET of {@code path} under the target's {@code url}, parsed as JSON. */
    JsonNode getJson(String path) throws PollFailure;

    /** POST of {@code jsonBody} to {@code path} under the target's {@code url}, answer parsed as JSON. */
    JsonNode postJson(String path, String jsonBody) throws PollFailure;
}
